//! The one shared HTTP client, and one HTTP exchange with a pooled key: the
//! key injected the provider's way, the request sent, the response head
//! awaited within the first-byte timeout. Reading bodies and deciding what
//! they mean is the call layer's ([`crate::call`]).

pub mod headers;
mod proxy;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use http::header::ACCEPT;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyDataStream, Full};
use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use keypool::{ApiKey, Outcome, OutcomeClass};

use crate::dialect::Dialect;
use crate::env::Env;
use crate::providers::Auth;
use crate::telemetry;

/// An upstream body not read yet.
pub type BodyStream = BoxStream<'static, Result<Bytes, hyper::Error>>;

/// HTTPS (or plain HTTP, for local servers) over a connection pool.
type Pooled = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The shared upstream client.
#[derive(Clone)]
pub struct Transport {
    client: Pooled,
    /// Set when the environment names a proxy (see [`proxy`]): requests it
    /// intercepts take its client, the others the direct one.
    proxy: Option<Arc<proxy::Proxy>>,
    first_byte: Duration,
}

/// A request to replay with each key: the body is buffered once.
pub struct Outbound {
    pub method: Method,
    /// Absolute: scheme, authority, path and query.
    pub url: Uri,
    /// The client's headers as [`headers`] allows them (never its
    /// credentials), or the ones keyrelay wrote.
    pub headers: HeaderMap,
    pub body: Bytes,
    pub auth: Auth,
    /// What the upstream speaks, which decides how its answers are read.
    pub dialect: Dialect,
}

/// A response head, its body still unread.
pub struct ResponseHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: BodyStream,
}

/// A failure before any response byte arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportFailure {
    /// The connection could not be opened (refused, DNS, TLS).
    Connect,
    /// The connection was reset or closed before the response head.
    Reset,
    /// No first byte arrived within the first-byte timeout.
    FirstByteTimeout,
    /// A whole answer stopped arriving part way (idle timeout or deadline).
    Stalled,
    /// Nothing was sent: the key could not be put on the request, which
    /// would otherwise have gone out without authentication.
    NotSent(headers::NotInjected),
}

impl TransportFailure {
    /// The attempt's outcome: transient, with signature `"connect"` or
    /// `"timeout"`, so the same failure on several keys at once reads as the
    /// provider being unreachable.
    pub fn outcome(self) -> Outcome {
        let (signature, reason) = match self {
            // The key can never be sent: disabled like an invalid one.
            TransportFailure::NotSent(headers::NotInjected::KeyNotAHeaderValue) => {
                return Outcome::new(OutcomeClass::KeyInvalid).with_reason("key_not_a_header_value")
            }
            // The provider's configuration, not any key: no rotation, no penalty.
            TransportFailure::NotSent(headers::NotInjected::HeaderName) => {
                return Outcome::new(OutcomeClass::ClientError)
                    .with_reason("auth_header_name_invalid")
            }
            TransportFailure::Connect => ("connect", "connect_failed"),
            TransportFailure::Reset => ("connect", "connection_reset"),
            TransportFailure::FirstByteTimeout => ("timeout", "first_byte_timeout"),
            TransportFailure::Stalled => ("timeout", "body_stalled"),
        };
        Outcome::new(OutcomeClass::Transient)
            .with_signature(signature)
            .with_reason(reason)
    }
}

/// No HTTP response: why, and a secret-free description.
#[derive(Debug, Clone)]
pub struct SendError {
    pub failure: TransportFailure,
    pub message: String,
}

/// Idle pooled connections are closed after this long.
const POOL_IDLE: Duration = Duration::from_secs(90);
/// TCP keepalive probes on upstream connections.
const TCP_KEEPALIVE: Duration = Duration::from_secs(15);

impl Transport {
    /// `connect` bounds opening a connection, `first_byte` the wait for the
    /// response head. There is no whole-request timeout: it would cut long
    /// streams. Redirects are never followed: a redirect is an answer.
    /// Proxies come from `env`'s `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`
    /// and `NO_PROXY` (see [`proxy`]).
    pub fn new(
        connect: Duration,
        first_byte: Duration,
        env: &dyn Env,
    ) -> Result<Transport, rustls::Error> {
        let mut tcp = HttpConnector::new();
        // The TLS layer above decides the scheme: https or plain http.
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(connect));
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(TCP_KEEPALIVE));
        tcp.set_keepalive_interval(Some(TCP_KEEPALIVE));
        tcp.set_keepalive_retries(Some(3));
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_webpki_roots()
        .with_no_client_auth();
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new());
        let proxy = proxy::Settings::from_env(env).map(|settings| {
            tracing::info!(proxy = %settings.summary, "upstream requests go through a proxy");
            Arc::new(proxy::Proxy::new(
                settings,
                tcp.clone(),
                tls.clone(),
                &builder,
            ))
        });
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(tcp);
        Ok(Transport {
            client: builder.build(connector),
            proxy,
            first_byte,
        })
    }

    /// Longest wait for a response head (and, in the call layer, for a
    /// stream's first event).
    pub fn first_byte_timeout(&self) -> Duration {
        self.first_byte
    }

    /// Sends `outbound` with `key` and waits for the response head.
    pub async fn send(&self, outbound: &Outbound, key: &ApiKey) -> Result<ResponseHead, SendError> {
        let mut headers = outbound.headers.clone();
        if let Err(why) = headers::inject_key(&mut headers, &outbound.auth, key.expose()) {
            tracing::warn!(key = %key.fingerprint(), reason = %why, "request not sent: it would have gone out without its key");
            return Err(SendError {
                failure: TransportFailure::NotSent(why),
                message: format!("not sent with key {}: {why}", key.fingerprint()),
            });
        }
        headers
            .entry(ACCEPT)
            .or_insert(HeaderValue::from_static("*/*"));
        // A traced request's attempt names its own span upstream.
        if let Some((parent, state)) = telemetry::attempt_headers(key.fingerprint().as_str()) {
            headers.insert(telemetry::TRACEPARENT, parent);
            headers.remove(telemetry::TRACESTATE);
            if let Some(state) = state {
                headers.insert(telemetry::TRACESTATE, state);
            }
        }
        let proxied = match &self.proxy {
            Some(proxy) => proxy.route(&outbound.url, &mut headers),
            None => None,
        };
        // `host` comes from the URI, `content-length` from the body.
        let mut request = Request::new(Full::new(outbound.body.clone()));
        *request.method_mut() = outbound.method.clone();
        *request.uri_mut() = outbound.url.clone();
        *request.headers_mut() = headers;
        let sent = match proxied {
            Some(client) => client.request(request),
            None => self.client.request(request),
        };
        match tokio::time::timeout(self.first_byte, sent).await {
            Err(_) => Err(SendError {
                failure: TransportFailure::FirstByteTimeout,
                message: "no response from upstream in time".into(),
            }),
            Ok(Err(err)) => Err(SendError {
                failure: if err.is_connect() {
                    TransportFailure::Connect
                } else {
                    TransportFailure::Reset
                },
                message: describe(&err),
            }),
            Ok(Ok(response)) => {
                let (head, body) = response.into_parts();
                Ok(ResponseHead {
                    status: head.status,
                    headers: head.headers,
                    body: BodyDataStream::new(body).boxed(),
                })
            }
        }
    }
}

/// A transport error and its causes as text. None of them carries the URL
/// (which may hold a query key): connectors only see scheme and authority.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;

//! The one shared HTTP client, and one HTTP exchange with a pooled key: the
//! key injected the provider's way, the request sent, the response head
//! awaited within the first-byte timeout. Reading bodies and deciding what
//! they mean is the call layer's ([`crate::call`]).

pub mod headers;

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use http::{HeaderMap, Method, StatusCode};
use keypool::ApiKey;

use crate::classify::TransportFailure;
use crate::dialect::Dialect;
use crate::providers::Auth;

/// An upstream body not read yet.
pub type BodyStream = BoxStream<'static, Result<Bytes, reqwest::Error>>;

/// The shared upstream client.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    first_byte: Duration,
}

/// A request to replay with each key: the body is buffered once.
pub struct Outbound {
    pub method: Method,
    pub url: reqwest::Url,
    /// Already filtered (no client credentials).
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

/// No HTTP response: why, and a secret-free description.
#[derive(Debug, Clone)]
pub struct SendError {
    pub failure: TransportFailure,
    pub message: String,
}

impl Transport {
    /// `connect` bounds opening a connection, `first_byte` the wait for the
    /// response head. There is no whole-request timeout: it would cut long
    /// streams.
    pub fn new(connect: Duration, first_byte: Duration) -> Result<Transport, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(connect)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Transport { client, first_byte })
    }

    /// Longest wait for a response head (and, in the call layer, for a
    /// stream's first event).
    pub fn first_byte_timeout(&self) -> Duration {
        self.first_byte
    }

    /// Sends `outbound` with `key` and waits for the response head.
    pub async fn send(&self, outbound: &Outbound, key: &ApiKey) -> Result<ResponseHead, SendError> {
        let mut headers = outbound.headers.clone();
        headers::inject_key(&mut headers, &outbound.auth, key.expose());
        let request = self
            .client
            .request(outbound.method.clone(), outbound.url.clone())
            .headers(headers)
            .body(outbound.body.clone());
        match tokio::time::timeout(self.first_byte, request.send()).await {
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
                message: describe(err),
            }),
            Ok(Ok(mut response)) => Ok(ResponseHead {
                status: response.status(),
                headers: std::mem::take(response.headers_mut()),
                body: response.bytes_stream().boxed(),
            }),
        }
    }
}

/// A transport error as text, without the URL (which may carry a query key).
pub fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

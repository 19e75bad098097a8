//! The one shared HTTP client, and one upstream attempt with a pooled key:
//! send, wait for the first byte (and for streams the first event), classify.

mod first_event;
pub mod headers;
mod relay_body;

use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use http::{HeaderMap, Method, StatusCode};
use keypool::{ApiKey, Outcome};

use crate::classify::{self, ErrorDialect, TransportFailure};
use crate::config::Timeouts;
use crate::providers::Auth;

pub use first_event::Framing;
pub use relay_body::{relay_stream, StreamEnd};

/// Error bodies are read up to this size for classification and forwarding.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How much of an unwanted body is drained so its connection can be reused.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// The shared upstream client and its phase timeouts.
#[derive(Clone)]
pub struct Transport {
    client: reqwest::Client,
    first_byte: Duration,
    idle: Duration,
    error_body: Duration,
}

/// A request to replay with each key: the body is buffered once.
pub struct Outbound {
    pub method: Method,
    pub url: String,
    /// Already filtered (no client credentials).
    pub headers: HeaderMap,
    pub body: Bytes,
    pub auth: Auth,
    pub errors: ErrorDialect,
}

/// What one attempt produced.
pub enum Upstream {
    Response(UpstreamResponse),
    /// No HTTP response: connection refused or reset, or no first byte in time.
    Failed {
        failure: TransportFailure,
        message: String,
    },
}

pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: UpstreamBody,
    pub framing: Framing,
}

pub enum UpstreamBody {
    /// Read whole (error bodies, bounded).
    Full(Bytes),
    /// Held bytes (a stream's first event) followed by the rest, unread.
    Stream {
        head: Bytes,
        rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    },
}

impl Transport {
    pub fn new(timeouts: &Timeouts) -> Result<Transport, reqwest::Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(Timeouts::duration(timeouts.connect))
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Transport {
            client,
            first_byte: Timeouts::duration(timeouts.first_byte),
            idle: Timeouts::duration(timeouts.idle),
            error_body: Timeouts::duration(timeouts.error_body),
        })
    }

    /// Longest silence allowed between two chunks of a forwarded body.
    pub fn idle_timeout(&self) -> Duration {
        self.idle
    }

    /// One attempt with one key, classified. `now` is wall time for hints.
    pub async fn attempt(
        &self,
        outbound: &Outbound,
        key: &ApiKey,
        now: SystemTime,
    ) -> (Outcome, Upstream) {
        let mut headers = outbound.headers.clone();
        headers::inject_key(&mut headers, &outbound.auth, key.expose());
        let request = self
            .client
            .request(outbound.method.clone(), &outbound.url)
            .headers(headers)
            .body(outbound.body.clone());
        let started = tokio::time::Instant::now();
        let response = match tokio::time::timeout(self.first_byte, request.send()).await {
            Err(_) => {
                return failed(
                    TransportFailure::FirstByteTimeout,
                    "no response from upstream in time".into(),
                )
            }
            Ok(Err(err)) => {
                let failure = if err.is_connect() {
                    TransportFailure::Connect
                } else {
                    TransportFailure::Reset
                };
                return failed(failure, describe(err));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let headers = response.headers().clone();
        let framing = Framing::of(&headers);
        let answer = |outcome, body, headers| {
            let response = UpstreamResponse {
                status,
                headers,
                body,
                framing,
            };
            (outcome, Upstream::Response(response))
        };
        if !status.is_success() {
            let body = self.read_error_body(response).await;
            let outcome = classify::classify(outbound.errors, status, &headers, &body, now);
            return answer(outcome, UpstreamBody::Full(body), headers);
        }
        let small = response
            .content_length()
            .is_some_and(|n| n <= ERROR_BODY_LIMIT as u64);
        if framing == Framing::Whole && small {
            // Small whole bodies are read here: some providers (OpenRouter)
            // answer HTTP 200 with an error object, which must still fail over.
            let remaining = self.first_byte.saturating_sub(started.elapsed());
            return match read_small(response, remaining).await {
                Ok(body) => {
                    let outcome = classify::classify(outbound.errors, status, &headers, &body, now);
                    answer(outcome, UpstreamBody::Full(body), headers)
                }
                Err(message) => failed(TransportFailure::Reset, message),
            };
        }
        let outcome = classify::classify(outbound.errors, status, &headers, b"", now);
        let rest = response.bytes_stream().boxed();
        if framing == Framing::Whole {
            return answer(
                outcome,
                UpstreamBody::Stream {
                    head: Bytes::new(),
                    rest,
                },
                headers,
            );
        }
        let remaining = self.first_byte.saturating_sub(started.elapsed());
        match first_event::hold(framing, rest, remaining).await {
            first_event::Held::Event {
                head,
                event,
                data,
                rest,
            } => {
                match classify::classify_stream_event(outbound.errors, event.as_deref(), &data, now)
                {
                    Some(error) => {
                        drain(rest);
                        answer(error, UpstreamBody::Full(head), headers)
                    }
                    None => answer(outcome, UpstreamBody::Stream { head, rest }, headers),
                }
            }
            first_event::Held::Ended => failed(
                TransportFailure::Reset,
                "upstream stream ended before its first event".into(),
            ),
            first_event::Held::Broken(message) => failed(TransportFailure::Reset, message),
            first_event::Held::TimedOut => failed(
                TransportFailure::FirstByteTimeout,
                "upstream sent no stream event in time".into(),
            ),
        }
    }

    /// Reads at most [`ERROR_BODY_LIMIT`] bytes within the error-body
    /// deadline; whatever is left is drained in the background.
    async fn read_error_body(&self, response: reqwest::Response) -> Bytes {
        let mut stream = response.bytes_stream().boxed();
        let mut body = BytesMut::new();
        let deadline = tokio::time::Instant::now() + self.error_body;
        while body.len() < ERROR_BODY_LIMIT {
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(Ok(chunk))) => body.extend_from_slice(&chunk),
                Ok(None) => return body.freeze(),
                Ok(Some(Err(_))) | Err(_) => return body.freeze(),
            }
        }
        body.truncate(ERROR_BODY_LIMIT);
        drain(stream);
        body.freeze()
    }
}

/// Reads a body known to be small, within `within`.
async fn read_small(response: reqwest::Response, within: Duration) -> Result<Bytes, String> {
    match tokio::time::timeout(within, response.bytes()).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(err)) => Err(format!("upstream body broke off: {}", err.without_url())),
        Err(_) => Err("upstream body did not arrive in time".into()),
    }
}

/// Reads and drops up to [`DRAIN_LIMIT`] bytes (for two seconds at most) so
/// the connection goes back to the pool instead of being closed.
fn drain(mut rest: BoxStream<'static, Result<Bytes, reqwest::Error>>) {
    tokio::spawn(async move {
        let mut seen = 0usize;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while seen < DRAIN_LIMIT {
            match tokio::time::timeout_at(deadline, rest.next()).await {
                Ok(Some(Ok(chunk))) => seen += chunk.len(),
                _ => break,
            }
        }
    });
}

fn failed(failure: TransportFailure, message: String) -> (Outcome, Upstream) {
    (
        classify::classify_transport(failure),
        Upstream::Failed { failure, message },
    )
}

/// A transport error as text, without the URL (which may carry a query key).
fn describe(err: reqwest::Error) -> String {
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

//! Running one client request over a provider's key pool, and answering the
//! client with what came back unchanged (Anthropic-dialect providers and the
//! native passthrough). Translated answers are built in [`super::translated`].

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use keypool::{
    AttemptReply, ExecuteOptions, Fingerprint, Finished, Outcome, OutcomeClass, Refusal,
};

use super::error::{stream_error_frame, ApiError, ErrorKind, ErrorShape};
use super::AppState;
use crate::classify::TransportFailure;
use crate::redact::redact;
use crate::registry::Provider;
use crate::transport::headers::forwardable_response_headers;
use crate::transport::{relay_stream, Outbound, StreamEnd, Upstream, UpstreamBody};

/// Sends `outbound` with one pooled key after another.
pub async fn execute(
    state: &AppState,
    provider: &Provider,
    outbound: &Outbound,
) -> Result<Finished<Upstream>, Refusal> {
    let pool = &provider.pool;
    let options = ExecuteOptions {
        deadline: Some(tokio::time::Instant::now() + state.request_timeout),
        max_wait: state.max_wait,
        same_key_retries: state.same_key_retries,
        ..ExecuteOptions::default()
    };
    pool.execute(&options, |attempt| async move {
        let (outcome, mut upstream) = state
            .transport
            .attempt(outbound, &attempt.key, pool.clock().wall())
            .await;
        // Upstreams echo keys in error bodies; strip them while the key is at hand.
        if let Upstream::Response(response) = &mut upstream {
            if let UpstreamBody::Full(body) = &mut response.body {
                *body = redact(body, attempt.key.expose());
            }
        }
        AttemptReply {
            outcome,
            value: upstream,
        }
    })
    .await
}

/// Sends `outbound` and answers with the upstream's response as it is.
pub async fn relay(
    state: &AppState,
    provider: &Arc<Provider>,
    outbound: Outbound,
    shape: ErrorShape,
) -> Response {
    match execute(state, provider, &outbound).await {
        Ok(finished) => {
            let (key, attempts, class) = (finished.key.clone(), finished.attempts, finished.class);
            let response = match finished.value {
                Upstream::Failed { failure, message } => {
                    transport_failure(provider, failure, &message, attempts, shape)
                }
                Upstream::Response(upstream) => {
                    let mut headers = forwardable_response_headers(&upstream.headers);
                    let body = match upstream.body {
                        UpstreamBody::Full(bytes) => {
                            headers.remove(http::header::CONTENT_LENGTH);
                            Body::from(bytes)
                        }
                        UpstreamBody::Stream { head, rest } => {
                            let framing = upstream.framing;
                            Body::from_stream(relay_stream(
                                head,
                                rest,
                                state.transport.idle_timeout(),
                                move |reason| stream_error_frame(shape, framing, reason),
                                late_failure_reporter(provider, &key),
                            ))
                        }
                    };
                    let mut response = Response::new(body);
                    *response.status_mut() = upstream.status;
                    *response.headers_mut() = headers;
                    response
                }
            };
            decorate(response, provider, Some((&key, attempts)), class)
        }
        Err(refusal) => decorate(
            refused(provider, refusal, shape),
            provider,
            None,
            OutcomeClass::Success,
        ),
    }
}

/// Adds `x-keyrelay-*` headers (on every proxied response, errors included).
pub fn decorate(
    mut response: Response,
    provider: &Provider,
    key: Option<(&Fingerprint, u32)>,
    class: OutcomeClass,
) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-keyrelay-provider", header_text(provider.name()));
    match key {
        Some((key, attempts)) => {
            headers.insert("x-keyrelay-key", header_text(key.as_str()));
            headers.insert("x-keyrelay-attempts", HeaderValue::from(attempts));
            if !matches!(class, OutcomeClass::Success) {
                tracing::info!(provider = %provider.name(), key = %key, attempts, %class, "request finished without success");
            }
        }
        None => {
            headers.insert("x-keyrelay-attempts", HeaderValue::from(0));
        }
    }
    response
}

/// Counts a stream that broke after content went out against its key.
pub fn late_failure_reporter(
    provider: &Provider,
    key: &Fingerprint,
) -> impl FnOnce(StreamEnd) + Send + 'static {
    let pool = provider.pool.clone();
    let key = key.clone();
    move |end| {
        if let StreamEnd::Broken(reason) = end {
            tracing::warn!(provider = %pool.name(), key = %key, %reason, "stream failed after content was sent");
            let outcome = Outcome::new(OutcomeClass::Transient).with_reason("stream_broken");
            tokio::spawn(async move { pool.report_late(&key, &outcome).await });
        }
    }
}

/// Every key failed without an HTTP response.
pub fn transport_failure(
    provider: &Provider,
    failure: TransportFailure,
    message: &str,
    attempts: u32,
    shape: ErrorShape,
) -> Response {
    let status = match failure {
        TransportFailure::FirstByteTimeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    };
    let text = format!(
        "keyrelay: upstream {} failed after {attempts} attempt(s): {message}",
        provider.name()
    );
    ApiError::new(status, ErrorKind::Api, text)
        .in_shape(shape)
        .into_response()
}

/// The pool answered without asking the provider.
pub fn refused(provider: &Provider, refusal: Refusal, shape: ErrorShape) -> Response {
    let name = provider.name();
    let error = match refusal {
        Refusal::Cooling { retry_after } => {
            let secs = retry_after.as_millis().div_ceil(1000).max(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::RateLimit,
                format!("keyrelay: every {name} key is cooling down after rate limits or quota errors; the first one is usable again in {secs}s"),
            );
            error.retry_after = Some(u64::try_from(secs).unwrap_or(u64::MAX));
            error
        }
        Refusal::AllDisabled { keys } => {
            let names: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Authentication,
                format!(
                    "keyrelay: every {name} key was rejected by the provider as invalid and is disabled ({}); replace them or run `keyrelay keys check {name}`",
                    names.join(", ")
                ),
            )
        }
        Refusal::NoKeys => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Authentication,
            format!(
                "keyrelay: no API keys configured for {name}; set {}",
                provider.spec.key_envs.join(" or ")
            ),
        ),
        Refusal::DeadlineExceeded { attempts } => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Api,
            format!("keyrelay: the request deadline passed after {attempts} attempt(s) on {name}"),
        ),
    };
    error.in_shape(shape).into_response()
}

/// Header values are ASCII: `…` becomes `...`, other non-ASCII becomes `?`.
fn header_text(text: &str) -> HeaderValue {
    let ascii: String = text
        .replace('…', "...")
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&ascii).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// Client headers for the upstream, minus credentials.
pub fn upstream_headers(client: &HeaderMap) -> HeaderMap {
    crate::transport::headers::forwardable_request_headers(client)
}

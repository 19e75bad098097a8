//! Running one client request over a provider's key pool and turning the
//! result into the client's response.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode};
use keypool::{AttemptReply, ExecuteOptions, Finished, Outcome, OutcomeClass, Refusal};

use super::error::{stream_error_frame, ApiError, ErrorKind, ErrorShape};
use super::AppState;
use crate::classify::TransportFailure;
use crate::redact::redact;
use crate::registry::Provider;
use crate::transport::headers::forwardable_response_headers;
use crate::transport::{relay_stream, Outbound, StreamEnd, Upstream, UpstreamBody};

/// Sends `outbound` with one pooled key after another and answers the client.
pub async fn relay(
    state: &AppState,
    provider: &Arc<Provider>,
    outbound: Outbound,
    shape: ErrorShape,
) -> Response {
    let pool = &provider.pool;
    let options = ExecuteOptions {
        deadline: Some(tokio::time::Instant::now() + state.request_timeout),
        max_wait: state.max_wait,
        same_key_retries: state.same_key_retries,
        ..ExecuteOptions::default()
    };
    let result = pool
        .execute(&options, |attempt| {
            let outbound = &outbound;
            async move {
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
            }
        })
        .await;
    let mut response = match result {
        Ok(finished) => finish(state, provider, finished, shape),
        Err(refusal) => refused(provider, refusal, shape),
    };
    let headers = response.headers_mut();
    headers.insert("x-keyrelay-provider", header_text(provider.name()));
    response
}

fn finish(
    state: &AppState,
    provider: &Arc<Provider>,
    finished: Finished<Upstream>,
    shape: ErrorShape,
) -> Response {
    let Finished {
        value,
        key,
        attempts,
        class,
    } = finished;
    let mut response = match value {
        Upstream::Failed { failure, message } => {
            let (status, kind) = match failure {
                TransportFailure::FirstByteTimeout => (StatusCode::GATEWAY_TIMEOUT, ErrorKind::Api),
                _ => (StatusCode::BAD_GATEWAY, ErrorKind::Api),
            };
            let text = format!(
                "keyrelay: upstream {} failed after {attempts} attempt(s): {message}",
                provider.name()
            );
            ApiError::new(status, kind, text)
                .in_shape(shape)
                .into_response()
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
                    let pool = provider.pool.clone();
                    let late_key = key.clone();
                    let stream = relay_stream(
                        head,
                        rest,
                        state.transport.idle_timeout(),
                        move |reason| stream_error_frame(shape, framing, reason),
                        move |end| {
                            if let StreamEnd::Broken(reason) = end {
                                tracing::warn!(provider = %pool.name(), key = %late_key, %reason, "stream failed after content was sent");
                                let outcome = Outcome::new(OutcomeClass::Transient)
                                    .with_reason("stream_broken");
                                tokio::spawn(
                                    async move { pool.report_late(&late_key, &outcome).await },
                                );
                            }
                        },
                    );
                    Body::from_stream(stream)
                }
            };
            let mut response = Response::new(body);
            *response.status_mut() = upstream.status;
            *response.headers_mut() = headers;
            response
        }
    };
    if class != OutcomeClass::Success {
        tracing::info!(provider = %provider.name(), key = %key, attempts, %class, "request finished without success");
    }
    let headers = response.headers_mut();
    headers.insert("x-keyrelay-key", header_text(key.as_str()));
    headers.insert("x-keyrelay-attempts", HeaderValue::from(attempts));
    response
}

fn refused(provider: &Arc<Provider>, refusal: Refusal, shape: ErrorShape) -> Response {
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
    let mut response = error.in_shape(shape).into_response();
    response
        .headers_mut()
        .insert("x-keyrelay-attempts", HeaderValue::from(0));
    response
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

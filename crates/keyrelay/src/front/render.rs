//! Rendering what a call produced: the `x-keyrelay-*` headers every proxied
//! response carries, and keyrelay's own errors when the pool refused or no
//! upstream answered.

use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode};
use keypool::{Fingerprint, OutcomeClass, Refusal};

use super::error::{ApiError, ErrorKind};
use crate::call::{CallResult, Upstream, UpstreamResponse};
use crate::classify::TransportFailure;
use crate::dialect::Dialect;
use crate::registry::Provider;

const PROVIDER: HeaderName = HeaderName::from_static("x-keyrelay-provider");
const KEY: HeaderName = HeaderName::from_static("x-keyrelay-key");
const ATTEMPTS: HeaderName = HeaderName::from_static("x-keyrelay-attempts");

/// Adds `x-keyrelay-*` headers (on every proxied response, errors included).
pub fn decorate(
    mut response: Response,
    provider: &Provider,
    key: Option<(&Fingerprint, u32)>,
    class: OutcomeClass,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(PROVIDER, header_text(provider.name()));
    match key {
        Some((key, attempts)) => {
            headers.insert(KEY, header_text(key.as_str()));
            headers.insert(ATTEMPTS, HeaderValue::from(attempts));
            if !matches!(class, OutcomeClass::Success) {
                tracing::info!(provider = %provider.name(), key = %key, attempts, %class, "request finished without success");
            }
        }
        None => {
            headers.insert(ATTEMPTS, HeaderValue::from(0));
        }
    }
    response
}

/// Every key failed without an HTTP response.
pub fn transport_failure(
    provider: &Provider,
    failure: TransportFailure,
    message: &str,
    attempts: u32,
    shape: Dialect,
) -> Response {
    let status = match failure {
        TransportFailure::FirstByteTimeout | TransportFailure::Stalled => {
            StatusCode::GATEWAY_TIMEOUT
        }
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
pub fn refused(provider: &Provider, refusal: Refusal, shape: Dialect) -> Response {
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
    let mut ascii = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            '…' => ascii.push_str("..."),
            c if c.is_ascii_graphic() || c == ' ' => ascii.push(c),
            _ => ascii.push('?'),
        }
    }
    HeaderValue::from_str(&ascii).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

/// Renders what a call ended with, decorated: an HTTP answer through
/// `answer` (given the key that served and the outcome class); no answer, or the pool's refusal, as keyrelay's own error in `shape`.
pub fn render(
    provider: &Provider,
    result: CallResult,
    shape: Dialect,
    answer: impl FnOnce(UpstreamResponse, &Fingerprint, OutcomeClass) -> Response,
) -> Response {
    match result {
        Ok(finished) => {
            let (key, attempts, class) = (finished.key, finished.attempts, finished.class);
            let response = match finished.value {
                Upstream::Failed { failure, message } => {
                    transport_failure(provider, failure, &message, attempts, shape)
                }
                Upstream::Response(upstream) => answer(upstream, &key, class),
            };
            decorate(response, provider, Some((&key, attempts)), class)
        }
        Err(refused_by_pool) => decorate(
            refused(provider, refused_by_pool.refusal, shape),
            provider,
            None,
            OutcomeClass::Success,
        ),
    }
}

//! keyrelay's own error when no target could serve a request: every key of
//! each target refused, cooling, disabled or failed in a class another key
//! might have fixed, or the provider down.
//!
//! Status, error type and `retry-after` are those of the last target's end
//! (its last upstream answer, e.g. a 429 stays a 429, or the pool's
//! refusal); the message says what happened on each target, with the
//! provider's own (already redacted) words; `attempts` lists every attempt.

use std::sync::Arc;

use http::StatusCode;
use keypool::OutcomeClass;

use super::attempt_log::AttemptLog;
use super::trail::{refused, status_of, transport_failure};
use super::{CallResult, Upstream, UpstreamBody, UpstreamResponse};
use crate::error::{ApiError, ErrorKind};
use crate::registry::Provider;

/// Longest piece of a provider's message quoted in the error.
const QUOTE_CHARS: usize = 500;

/// One target that could not serve.
pub struct Failed {
    pub provider: Arc<Provider>,
    /// The upstream model it was asked for, when known.
    pub model: Option<String>,
    /// 0 for the route's own provider; N for the N-th fallback target.
    pub fallback: usize,
    pub result: CallResult,
}

/// The error for `failed` (in the order tried, at least one), with `log`
/// as its `attempts`.
pub fn exhausted(failed: &[Failed], log: &AttemptLog) -> ApiError {
    let mut endings: Vec<ApiError> = failed.iter().map(ending).collect();
    let Some(mut last) = endings.pop() else {
        return ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorKind::Api,
            "keyrelay: no target could serve this request",
        );
    };
    last.message = if endings.is_empty() {
        format!("keyrelay: {}", last.message)
    } else {
        let earlier: Vec<&str> = endings.iter().map(|e| e.message.as_str()).collect();
        format!(
            "keyrelay: no target could serve this request: {}; then {}",
            earlier.join("; then "),
            last.message
        )
    };
    last.attempts = Some(log.json());
    last
}

/// How one target ended, as an error without the `keyrelay:` prefix.
fn ending(failed: &Failed) -> ApiError {
    let provider = &failed.provider;
    let finished = match &failed.result {
        Err(refusal) => return refused(provider, &refusal.refusal),
        Ok(finished) => finished,
    };
    let name = provider.name();
    let what = if finished.class == OutcomeClass::ProviderDown {
        format!(
            "{name} looks down: the same failure on several keys ({} attempt(s))",
            finished.attempts
        )
    } else {
        format!(
            "{name} could not serve it: {} attempt(s) failed",
            finished.attempts
        )
    };
    match &finished.value {
        Upstream::Failed { failure, message } => {
            let (status, kind) = transport_failure(*failure);
            ApiError::new(
                status,
                kind,
                format!("{what}; the last got no answer: {message}"),
            )
        }
        Upstream::Response(upstream) => {
            let status = match upstream.in_band {
                Some(class) => status_of(class),
                None if upstream.status.is_success() => status_of(finished.class),
                None => upstream.status,
            };
            let said = provider_message(provider, upstream);
            let mut error = ApiError::new(
                status,
                ErrorKind::for_status(status.as_u16()),
                format!(
                    "{what}; the last answered HTTP {} ({}): {said}",
                    upstream.status.as_u16(),
                    finished.class
                ),
            );
            let hint = finished.log.last().and_then(|r| r.retry_after);
            error.retry_after = retry_after_header(upstream).or_else(|| {
                hint.map(|d| u64::try_from(d.as_millis().div_ceil(1000).max(1)).unwrap_or(u64::MAX))
            });
            error
        }
    }
}

/// The provider's own message from an error body (redacted by the call layer).
fn provider_message(provider: &Provider, upstream: &UpstreamResponse) -> String {
    let body = match &upstream.body {
        UpstreamBody::Full(bytes) => bytes.as_ref(),
        UpstreamBody::Stream(_) => &[],
    };
    let message = provider
        .spec
        .dialect
        .error_message(body)
        .unwrap_or_else(|| "no message".to_owned());
    message.chars().take(QUOTE_CHARS).collect()
}

/// The upstream's `retry-after` in whole seconds, when it gave one.
pub fn retry_after_header(upstream: &UpstreamResponse) -> Option<u64> {
    upstream
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map(|secs| secs.ceil() as u64)
}

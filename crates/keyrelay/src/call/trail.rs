//! Rendering what a call produced: the `x-keyrelay-*` headers every proxied
//! response carries, and keyrelay's own errors when the pool refused or no
//! upstream answered.

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderName, HeaderValue, StatusCode};
use keypool::{AttemptRecord, Fingerprint, OutcomeClass, Refusal};

use super::attempt_log::AttemptLog;
use super::report::StreamReport;
use crate::error::{ApiError, ErrorKind};
use crate::registry::Provider;
use crate::transport::TransportFailure;

const PROVIDER: HeaderName = HeaderName::from_static("x-keyrelay-provider");
const MODEL: HeaderName = HeaderName::from_static("x-keyrelay-model");
const FALLBACK: HeaderName = HeaderName::from_static("x-keyrelay-fallback");
const KEY: HeaderName = HeaderName::from_static("x-keyrelay-key");
const ATTEMPTS: HeaderName = HeaderName::from_static("x-keyrelay-attempts");
const ATTEMPT_LOG: HeaderName = HeaderName::from_static("x-keyrelay-attempt-log");

/// How a response came about, left in its extensions for whoever observes
/// it (the request log, access log and metrics).
#[derive(Debug, Clone)]
pub struct Trace {
    pub provider: String,
    pub model: Option<String>,
    pub fallback: usize,
    pub key: Option<Fingerprint>,
    pub attempts: Vec<(String, AttemptRecord)>,
    /// For a stream: what became of it after the head went out.
    pub late: Option<Arc<StreamReport>>,
}

/// What the `x-keyrelay-*` headers tell about how a response came about.
pub struct Trail<'a> {
    /// The provider that answered (or failed last).
    pub provider: &'a Provider,
    /// The upstream model it was asked for, when known.
    pub model: Option<&'a str>,
    /// 0 for the route's own provider; N for the N-th fallback target.
    pub fallback: usize,
    /// The key of the attempt that answered, if one did.
    pub key: Option<&'a Fingerprint>,
    /// Every attempt of the request, on every target.
    pub log: &'a AttemptLog,
}

/// Adds `x-keyrelay-*` headers (on every proxied response, errors included).
pub fn decorate(mut response: Response, trail: &Trail<'_>, class: OutcomeClass) -> Response {
    let headers = response.headers_mut();
    headers.insert(PROVIDER, header_text(trail.provider.name()));
    if let Some(model) = trail.model {
        headers.insert(MODEL, header_text(model));
    }
    if trail.fallback > 0 {
        headers.insert(FALLBACK, HeaderValue::from(trail.fallback));
    }
    if let Some(key) = trail.key {
        headers.insert(KEY, header_text(key.as_str()));
    }
    headers.insert(ATTEMPTS, HeaderValue::from(trail.log.len()));
    // One attempt on the route itself that succeeded: x-keyrelay-key and
    // -attempts say it all, and the hot path skips formatting the log.
    let clean = trail.log.len() == 1 && class == OutcomeClass::Success && trail.fallback == 0;
    if !trail.log.is_empty() && !clean {
        headers.insert(ATTEMPT_LOG, trail.log.header());
    }
    if let (Some(key), false) = (trail.key, class == OutcomeClass::Success) {
        let attempts = trail.log.len();
        tracing::info!(provider = %trail.provider.name(), key = %key, attempts, %class, "request finished without success");
    }
    let late = response.extensions_mut().remove::<Arc<StreamReport>>();
    response.extensions_mut().insert(Trace {
        provider: trail.provider.name().to_owned(),
        model: trail.model.map(str::to_owned),
        fallback: trail.fallback,
        key: trail.key.cloned(),
        attempts: trail.log.records(),
        late,
    });
    response
}

/// No HTTP response from the last attempt: connection trouble or a timeout.
pub fn transport_failure(failure: TransportFailure) -> (StatusCode, ErrorKind) {
    let status = match failure {
        TransportFailure::FirstByteTimeout | TransportFailure::Stalled => {
            StatusCode::GATEWAY_TIMEOUT
        }
        _ => StatusCode::BAD_GATEWAY,
    };
    (status, ErrorKind::Api)
}

/// The pool answered without asking the provider. The message has no
/// `keyrelay:` prefix, so several can be joined.
pub fn refused(provider: &Provider, refusal: &Refusal) -> ApiError {
    let name = provider.name();
    match refusal {
        Refusal::Cooling { retry_after } => {
            let secs = retry_after.as_millis().div_ceil(1000).max(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::RateLimit,
                format!("every {name} key is cooling down after rate limits or quota errors; the first one is usable again in {secs}s"),
            );
            error.retry_after = Some(u64::try_from(secs).unwrap_or(u64::MAX));
            error
        }
        Refusal::OverBudget { retry_after } => {
            let secs = retry_after.as_millis().div_ceil(1000).max(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::RateLimit,
                format!("keyrelay: every usable {name} key has spent its configured budget (rpm, tpm or rpd); the first has room again in {secs}s"),
            );
            error.retry_after = Some(u64::try_from(secs).unwrap_or(u64::MAX));
            error
        }
        Refusal::AllDisabled {
            invalid,
            by_operator,
        } => all_disabled(name, invalid, by_operator),
        Refusal::NoKeys => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Authentication,
            format!(
                "no API keys configured for {name}; set {}",
                provider.spec.key_envs.join(" or ")
            ),
        ),
        Refusal::AllTried => ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorKind::Api,
            format!("every {name} key that could serve was already tried for this request"),
        ),
        Refusal::DeadlineExceeded { attempts } => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Api,
            format!("the request deadline passed after {attempts} attempt(s) on {name}"),
        ),
    }
}

/// Every key is disabled: says who disabled them (the provider, an
/// operator, or some each), by fingerprint.
fn all_disabled(name: &str, invalid: &[Fingerprint], by_operator: &[Fingerprint]) -> ApiError {
    let list = |keys: &[Fingerprint]| {
        keys.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let check = format!("run `keyrelay keys check {name}`");
    let enable =
        "enable them through the admin API (POST /admin/keys/{id}/enable) or the dashboard";
    let (kind, message) = match (invalid.len(), by_operator.len()) {
        (_, 0) => (
            ErrorKind::Authentication,
            format!(
                "every {name} key was rejected by the provider as invalid and is disabled ({}); replace them or {check}",
                list(invalid)
            ),
        ),
        (0, _) => (
            ErrorKind::Api,
            format!(
                "every {name} key was disabled by an operator ({}); {enable}",
                list(by_operator)
            ),
        ),
        (provider, operator) => (
            ErrorKind::Api,
            format!(
                "every {name} key is disabled: {provider} rejected by the provider as invalid ({}) and {operator} disabled by an operator ({}); {enable}, or replace the invalid ones",
                list(invalid),
                list(by_operator)
            ),
        ),
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, kind, message)
}

/// The HTTP status an outcome class stands for, for errors that came inside a 200.
pub fn status_of(class: OutcomeClass) -> StatusCode {
    match class {
        OutcomeClass::KeyInvalid => StatusCode::UNAUTHORIZED,
        OutcomeClass::KeyNoCredit => StatusCode::PAYMENT_REQUIRED,
        OutcomeClass::RateLimited | OutcomeClass::QuotaDaily => StatusCode::TOO_MANY_REQUESTS,
        OutcomeClass::ClientError => StatusCode::BAD_REQUEST,
        OutcomeClass::Success | OutcomeClass::Transient | OutcomeClass::ProviderDown => {
            StatusCode::BAD_GATEWAY
        }
    }
}

/// The longest `x-keyrelay-*` value written: names come from the
/// configuration and models are bounded where they are read, but a header
/// is never a place for anything long.
const MAX_HEADER_TEXT: usize = 256;

/// Header values are ASCII: `…` becomes `...`, other non-ASCII becomes `?`;
/// at most [`MAX_HEADER_TEXT`] bytes.
fn header_text(text: &str) -> HeaderValue {
    let plain =
        text.len() <= MAX_HEADER_TEXT && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if plain {
        if let Ok(value) = HeaderValue::from_str(text) {
            return value;
        }
    }
    let mut ascii = String::with_capacity(text.len().min(MAX_HEADER_TEXT) + 2);
    for c in text.chars() {
        let (piece, width) = match c {
            '…' => ("...", 3),
            c if c.is_ascii_graphic() || c == ' ' => ("", 1),
            _ => ("?", 1),
        };
        if ascii.len() + width > MAX_HEADER_TEXT {
            break;
        }
        match piece {
            "" => ascii.push(c),
            piece => ascii.push_str(piece),
        }
    }
    HeaderValue::from_str(&ascii).unwrap_or_else(|_| HeaderValue::from_static("-"))
}

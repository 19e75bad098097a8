//! OpenRouter: `{"error":{"code":429,"message":…,"metadata":{…}},"user_id":…}`.
//!
//! Rate limits are per account, not per key, so every 429 carries the signature
//! `openrouter-account`: extra keys of one account do not lift it and the pool
//! notices the repeat. The free-model daily cap resets at midnight UTC. The
//! platform copies its rate-limit headers into `error.metadata.headers`, which
//! is read as a hint too (it survives proxies that drop headers). Late failures
//! arrive in a 200 stream as a chunk with a top-level `error` and
//! `finish_reason: "error"`.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};
use keypool::{hints, Outcome, OutcomeClass};
use serde_json::Value;

use super::{by_status, openai, str_at};

/// The signature shared by every key of one OpenRouter account.
const ACCOUNT_SIGNATURE: &str = "openrouter-account";

/// An HTTP error response (or an in-stream error whose `code` is a status).
pub(super) fn classify_body(status: u16, json: Option<&Value>, now: SystemTime) -> Outcome {
    let error = json.and_then(|j| j.get("error")).filter(|e| e.is_object());
    let message = error.and_then(|e| str_at(e, &["message"])).unwrap_or("");
    match status {
        429 => rate_limited(error, message, now),
        401 => by_status(status).with_reason("unauthorized"),
        402 => by_status(status).with_reason("insufficient_credits"),
        _ => by_status(status),
    }
}

/// A data chunk with a top-level `error` object, or a choice that finished with
/// `"error"` (the error object may then sit inside the choice).
pub(super) fn classify_event(json: Option<&Value>, now: SystemTime) -> Option<Outcome> {
    let json = json?;
    let choice = json
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let finished_with_error = choice.and_then(|c| str_at(c, &["finish_reason"])) == Some("error");
    let error = json.get("error").filter(|e| e.is_object()).or_else(|| {
        choice
            .and_then(|c| c.get("error"))
            .filter(|e| e.is_object())
    });
    match error {
        Some(error) => Some(openai::classify_error_object(error, |status, body| {
            classify_body(status, Some(body), now)
        })),
        None if finished_with_error => Some(
            Outcome::new(OutcomeClass::Transient)
                .with_signature("stream_error")
                .with_reason("finish_reason_error"),
        ),
        None => None,
    }
}

fn rate_limited(error: Option<&Value>, message: &str, now: SystemTime) -> Outcome {
    let metadata = error.and_then(|e| e.get("metadata"));
    let hint = metadata
        .and_then(|m| m.get("headers"))
        .and_then(|h| body_headers_hint(h, now));
    let limit_source = metadata.and_then(|m| str_at(m, &["limit_source"]));
    // "free-models-per-day" (and its "-high-balance" twin), or a per-model
    // requests-per-day bucket ("limit_rpd/…"): both reset at midnight UTC.
    let daily = message.contains("free-models-per-day")
        || message.contains("limit_rpd/")
        || limit_source == Some("openrouter_free_tier_daily");
    let outcome = if daily {
        Outcome::new(OutcomeClass::QuotaDaily)
            .with_retry_after(hint.max(Some(hints::until_utc_midnight(now))))
            .with_reason("free_models_per_day")
    } else {
        // "Provider returned error" + metadata.raw: the upstream model's own limit.
        let reason = if message == "Provider returned error" {
            "upstream_rate_limited"
        } else {
            "rate_limited"
        };
        Outcome::new(OutcomeClass::RateLimited)
            .with_retry_after(hint)
            .with_reason(reason)
    };
    outcome.with_signature(ACCOUNT_SIGNATURE)
}

/// `error.metadata.headers` (`{"X-RateLimit-Reset":"1741305600000",…}`) read
/// with the same hint parsers as real response headers.
fn body_headers_hint(headers: &Value, now: SystemTime) -> Option<Duration> {
    let mut map = HeaderMap::new();
    for (name, value) in headers.as_object()? {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.insert(name, value);
        }
    }
    hints::longest(&map, now)
}

/// OpenRouter's rules.
pub const RULES: super::Rules = super::Rules {
    body: classify_body,
    event: |_, json, now| classify_event(json, now),
    proxy: None,
    group: None,
};

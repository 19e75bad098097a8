//! Ollama (ollama.com cloud and compatible servers): `{"error":"unauthorized"}`,
//! a bare string. The OpenAI-compatible `/v1` routes wrap it as
//! `{"error":{"message":…}}`; both are read. Streams are NDJSON, one object per
//! line, and a late failure is a line with only `error`.

use keypool::{Outcome, OutcomeClass};
use serde_json::Value;

use dialects::Dialect;

use super::by_status;

/// An HTTP error response.
pub(super) fn classify_body(status: u16, json: Option<&Value>) -> Outcome {
    let message = json
        .and_then(error_message)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if is_unauthorized(&message) {
        return Outcome::new(OutcomeClass::KeyInvalid).with_reason("unauthorized");
    }
    if status == 429 {
        return usage_limit(&message)
            .unwrap_or_else(|| by_status(status).with_reason("rate_limited"));
    }
    by_status(status)
}

/// An NDJSON line (or SSE data) with an `error`: transient unless it names the
/// key or a usage limit.
pub(super) fn classify_event(json: Option<&Value>) -> Option<Outcome> {
    let message = error_message(json?)?.to_ascii_lowercase();
    if is_unauthorized(&message) {
        return Some(Outcome::new(OutcomeClass::KeyInvalid).with_reason("unauthorized"));
    }
    let limited = message.contains("quota")
        || message.contains("too many requests")
        || (message.contains("rate") && message.contains("limit"))
        || message.contains("usage limit");
    if limited {
        let fallback = || Outcome::new(OutcomeClass::RateLimited).with_reason("rate_limited");
        return Some(usage_limit(&message).unwrap_or_else(fallback));
    }
    Some(
        Outcome::new(OutcomeClass::Transient)
            .with_signature("stream_error")
            .with_reason("stream_error"),
    )
}

/// Ollama's cloud plans have hourly/session and weekly caps. A weekly cap will
/// not lift for days, so it cools the key like an empty account rather than
/// retrying it every few minutes.
fn usage_limit(message: &str) -> Option<Outcome> {
    let (class, reason) = if message.contains("weekly usage limit") {
        (OutcomeClass::KeyNoCredit, "weekly_usage_limit")
    } else if message.contains("session usage limit") {
        (OutcomeClass::RateLimited, "session_usage_limit")
    } else if message.contains("hourly usage limit") {
        (OutcomeClass::RateLimited, "hourly_usage_limit")
    } else {
        return None;
    };
    Some(Outcome::new(class).with_reason(reason))
}

fn is_unauthorized(message: &str) -> bool {
    message.contains("unauthorized")
        || message.contains("invalid api key")
        || message.contains("unauthenticated")
}

fn error_message(json: &Value) -> Option<&str> {
    Dialect::Ollama.message_in(json)
}

/// Ollama's rules.
pub const RULES: super::Rules = super::Rules {
    body: |status, json, _| classify_body(status, json),
    event: |_, json, _| classify_event(json),
    proxy: None,
    group: None,
};

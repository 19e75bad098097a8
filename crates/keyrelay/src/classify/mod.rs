//! Per-provider classification of an upstream attempt into the key pool's
//! [`OutcomeClass`], with the provider's "come back later" hint.
//!
//! Classification answers one question: who caused this failure — the request,
//! the key, its account, or the provider? Status codes alone are ambiguous (an
//! OpenAI 429 may mean "wait a minute" or "no credit left"; an Anthropic 400 may
//! mean "bad request" or "credit balance too low"), so each provider module looks
//! at the JSON error body too. A body that is not JSON never matches a pattern and
//! the status code decides. Nothing here panics on any input.

mod anthropic;
mod gemini;
mod litellm;
mod ollama;
mod openai;
mod openrouter;
#[cfg(test)]
mod tests;

pub use anthropic::RULES as ANTHROPIC;
pub use gemini::RULES as GEMINI;
pub use ollama::RULES as OLLAMA;
pub use openai::RULES as OPENAI_CHAT;
pub use openrouter::RULES as OPENROUTER;

use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use keypool::{hints, Outcome, OutcomeClass};
use serde_json::Value;

pub use dialects::dialect::parse_json;

/// An error a proxy answered itself, read from its status and body.
pub type ProxyRule = fn(u16, Option<&Value>) -> Option<Outcome>;

/// How one dialect's errors are read: the classification half of a
/// dialect's description (keyrelay's `dialect` module binds each dialect to its rules).
pub struct Rules {
    /// An HTTP error response's body (`None`: not JSON).
    pub body: fn(u16, Option<&Value>, SystemTime) -> Outcome,
    /// An error inside a 200: an SSE event (`event:` name, data) or an NDJSON
    /// line; `None` when it is not an error.
    pub event: fn(Option<&str>, Option<&Value>, SystemTime) -> Option<Outcome>,
    /// A proxy in front of the provider that answers some errors itself,
    /// with statuses of its own, before the body rules and status checks.
    pub proxy: Option<ProxyRule>,
    /// The account or organisation an answer's headers name, which groups
    /// keys that share one quota.
    pub group: Option<fn(&HeaderMap) -> Option<String>>,
}

/// Classify a complete upstream response (status + headers + at most 64 KiB of
/// body, already read by the caller) by `rules`. `now` is wall-clock time,
/// used to turn absolute reset stamps into durations.
///
/// `retry_after` on the result is the longest provider hint, as a duration from
/// `now`. On a 2xx it is set only when the headers say nothing is left in the
/// window (park the key before it earns a 429). A 2xx whose body is just an
/// error object (OpenRouter reports late failures that way) is classified as
/// that error.
pub fn classify(
    rules: &Rules,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Outcome {
    let outcome = if status.is_success() {
        let parked = hints::exhausted_until(headers, now);
        match error_in_success_body(rules, body, now) {
            Some(outcome) => merge_hint(outcome, parked),
            None => Outcome::success().with_retry_after(parked),
        }
    } else {
        let code = status.as_u16();
        let json = parse_json(body);
        let outcome = rules
            .proxy
            .and_then(|proxy| proxy(code, json.as_ref()))
            .unwrap_or_else(|| enforce_status((rules.body)(code, json.as_ref(), now), code));
        merge_hint(outcome, hints::longest(headers, now))
    };
    // A group name from the headers (every OpenAI answer names its
    // organisation, successes included) wins over one a message quotes:
    // one key, one group name, whatever the answer.
    match rules.group.and_then(|group| group(headers)) {
        Some(group) => outcome.with_group(group),
        None => outcome,
    }
}

/// An error found inside an HTTP-200 stream: `event` is the SSE `event:` name if
/// any, `data` the event's data (or one NDJSON line). Returns `None` when the
/// event is not an error (content, pings, `[DONE]`, unparsable non-error data).
/// A returned `retry_after` is a duration from `now` taken from the event body.
pub fn classify_stream_event(
    rules: &Rules,
    event: Option<&str>,
    data: &[u8],
    now: SystemTime,
) -> Option<Outcome> {
    (rules.event)(event, parse_json(data).as_ref(), now)
}

/// A 2xx body that carries an error object, read like an in-stream error.
/// Leading whitespace is skipped (OpenRouter keeps a slow connection alive
/// with it). Only small documents that mention `"error"` are parsed, so
/// ordinary completions are not parsed twice.
fn error_in_success_body(rules: &Rules, body: &[u8], now: SystemTime) -> Option<Outcome> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &body[start..];
    if body[0] != b'{'
        || body.len() > ERROR_OBJECT_LIMIT
        || memchr::memmem::find(body, b"\"error\"").is_none()
    {
        return None;
    }
    classify_stream_event(rules, None, body, now)
}

/// An error object is small; a larger 2xx body is an answer.
const ERROR_OBJECT_LIMIT: usize = 64 * 1024;

/// Status codes that decide the class whatever the body says: 401 is always a
/// dead key, 402 always an empty account, 408 and 5xx always the provider.
pub(crate) fn enforce_status(mut outcome: Outcome, status: u16) -> Outcome {
    match status {
        401 => outcome.class = OutcomeClass::KeyInvalid,
        402 => outcome.class = OutcomeClass::KeyNoCredit,
        408 | 500..=599 => {
            outcome.class = OutcomeClass::Transient;
            outcome.signature = Some(status.to_string());
        }
        _ => {}
    }
    if outcome.class == OutcomeClass::Transient && outcome.signature.is_none() {
        outcome.signature = Some(status.to_string());
    }
    if outcome.reason.is_none() {
        outcome.reason = Some(format!("http_{status}"));
    }
    outcome
}

/// The class a bare status code implies when the body says nothing useful.
pub(crate) fn by_status(status: u16) -> Outcome {
    let class = match status {
        401 => OutcomeClass::KeyInvalid,
        402 => OutcomeClass::KeyNoCredit,
        429 => OutcomeClass::RateLimited,
        408 => OutcomeClass::Transient,
        400..=499 => OutcomeClass::ClientError,
        _ => OutcomeClass::Transient,
    };
    Outcome::new(class).with_reason(format!("http_{status}"))
}

/// Keeps the longer of the outcome's own (body) hint and `hint`.
pub(crate) fn merge_hint(outcome: Outcome, hint: Option<Duration>) -> Outcome {
    let longest = outcome.retry_after.max(hint);
    outcome.with_retry_after(longest)
}

/// The string at `path` inside nested objects.
pub(crate) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

/// A provider code fit to be a log reason: short and made of identifier
/// characters only, so an echoed secret or free text can never become one.
pub(crate) fn code_token(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    ok.then(|| text.to_owned())
}

/// A numeric error code (JSON number or numeric string) that is a valid HTTP
/// status, e.g. OpenRouter's in-stream `"code": 429`.
pub(crate) fn status_code_of(value: Option<&Value>) -> Option<u16> {
    let code = match value? {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    let code = u16::try_from(code).ok()?;
    (100..=599).contains(&code).then_some(code)
}

/// The Go-style duration right after `marker` in a message, as in Gemini's
/// "Please retry in 20.04s." or OpenAI's "Please try again in 1m9.696s.".
pub(crate) fn duration_after(message: &str, marker: &str) -> Option<Duration> {
    let start = message.find(marker)? + marker.len();
    let rest = message.get(start..)?;
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .unwrap_or(rest.len());
    hints::parse_go_duration(rest.get(..end)?.trim_end_matches('.'))
}

//! Anthropic: `{"type":"error","error":{"type":"rate_limit_error","message":…}}`.
//!
//! The error `type` is authoritative and the same names appear in-stream as an
//! `event: error`. Two `invalid_request_error` messages are really about money
//! (credit balance too low, spend limit reached) and rotate as `key_no_credit`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keypool::{Outcome, OutcomeClass};
use serde_json::Value;

use super::{by_status, code_token, enforce_status, str_at};

/// An HTTP error response.
pub(super) fn classify_body(status: u16, json: Option<&Value>, now: SystemTime) -> Outcome {
    let error_type = json.and_then(|j| str_at(j, &["error", "type"]));
    let message = json
        .and_then(|j| str_at(j, &["error", "message"]))
        .unwrap_or("");
    match error_type {
        Some(error_type) => from_error_type(error_type, message, Some(status), now),
        None => by_status(status),
    }
}

/// `event: error` with `{"type":"error","error":{…}}`. Other events are content.
pub(super) fn classify_event(
    event: Option<&str>,
    json: Option<&Value>,
    now: SystemTime,
) -> Option<Outcome> {
    let is_error =
        event == Some("error") || json.and_then(|j| str_at(j, &["type"])) == Some("error");
    if !is_error {
        return None;
    }
    let error_type = json.and_then(|j| str_at(j, &["error", "type"]));
    let message = json
        .and_then(|j| str_at(j, &["error", "message"]))
        .unwrap_or("");
    Some(match error_type {
        Some(error_type) => from_error_type(error_type, message, None, now),
        // An error event we cannot read is still an upstream failure.
        None => Outcome::new(OutcomeClass::Transient)
            .with_signature("stream_error")
            .with_reason("unreadable_error_event"),
    })
}

/// Maps an Anthropic error type. `status` is `None` in a stream, where the type
/// stands in for the status code (overloaded = 529, api_error = 500).
fn from_error_type(
    error_type: &str,
    message: &str,
    status: Option<u16>,
    now: SystemTime,
) -> Outcome {
    let reason = code_token(error_type).unwrap_or_else(|| "unknown_error_type".to_owned());
    let transient = |code: u16| {
        let code = status.unwrap_or(code);
        enforce_status(Outcome::new(OutcomeClass::Transient), code).with_reason(reason.clone())
    };
    let outcome = match error_type {
        "authentication_error" | "permission_error" => Outcome::new(OutcomeClass::KeyInvalid),
        "billing_error" => Outcome::new(OutcomeClass::KeyNoCredit),
        "rate_limit_error" => Outcome::new(OutcomeClass::RateLimited),
        "overloaded_error" => return transient(529),
        "api_error" => return transient(500),
        "timeout_error" => return transient(504),
        "invalid_request_error" => return invalid_request(message, now),
        "not_found_error" | "request_too_large" => Outcome::new(OutcomeClass::ClientError),
        _ => match status {
            Some(status) => by_status(status),
            None => Outcome::new(OutcomeClass::Transient).with_signature("stream_error"),
        },
    };
    outcome.with_reason(reason)
}

/// Most invalid requests are the client's fault; running out of money is not.
fn invalid_request(message: &str, now: SystemTime) -> Outcome {
    let lower = message.to_ascii_lowercase();
    if lower.contains("credit balance is too low") {
        return Outcome::new(OutcomeClass::KeyNoCredit).with_reason("credit_balance_too_low");
    }
    if lower.contains("reached your specified api usage limits") {
        // A workspace spend limit: the message names the instant access returns.
        return Outcome::new(OutcomeClass::KeyNoCredit)
            .with_retry_after(regain_access_in(message, now))
            .with_reason("usage_limit_reached");
    }
    Outcome::new(OutcomeClass::ClientError).with_reason("invalid_request_error")
}

/// "You will regain access on 2026-04-01 at 00:00 UTC." → time until then.
fn regain_access_in(message: &str, now: SystemTime) -> Option<Duration> {
    const MARKER: &str = "regain access on ";
    let rest = message.get(message.find(MARKER)? + MARKER.len()..)?;
    let (date, rest) = (rest.get(..10)?, rest.get(10..)?);
    let time = rest.strip_prefix(" at ")?.get(..5)?;
    let mut ymd = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (ymd.next()?.ok()?, ymd.next()?.ok()?, ymd.next()?.ok()?);
    let (hour, minute) = time.split_once(':')?;
    let (hour, minute) = (hour.parse::<i64>().ok()?, minute.parse::<i64>().ok()?);
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute);
    if !valid {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60;
    let at = UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm),
/// so this module needs no date library for one timestamp.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Anthropic's rules.
pub const RULES: super::Rules = super::Rules {
    body: classify_body,
    event: classify_event,
    proxy: None,
    group: None,
};

//! Gemini (Google APIs): `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED",
//! "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure",…}]}}`.
//!
//! Quotas belong to the Google Cloud project, not the key, so a 429 carries the
//! violated quota ids as its signature: keys of one project then produce the
//! same signature and the pool stops rotating among them. Key problems come as
//! `ErrorInfo.reason` (`API_KEY_INVALID`, `API_KEY_SERVICE_BLOCKED`,
//! `CONSUMER_SUSPENDED`) on a 400 or 403.

use std::time::SystemTime;

use keypool::{hints, Outcome, OutcomeClass};
use serde_json::Value;

use super::{by_status, code_token, duration_after, enforce_status, status_code_of, str_at};

const QUOTA_FAILURE: &str = "type.googleapis.com/google.rpc.QuotaFailure";
const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";
const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// `ErrorInfo.reason` values that mean this key (or its project) cannot be used.
const KEY_REASONS: [&str; 4] = [
    "CONSUMER_SUSPENDED",
    "CONSUMER_INVALID",
    "SERVICE_DISABLED",
    "API_KEY_INVALID",
];

/// An HTTP error response (or a stream error object, whose `code` is the status).
pub(super) fn classify_body(status: u16, json: Option<&Value>, now: SystemTime) -> Outcome {
    let Some(error) = json.and_then(|j| j.get("error")).filter(|e| e.is_object()) else {
        return by_status(status);
    };
    let message = str_at(error, &["message"]).unwrap_or("");
    let google_status = str_at(error, &["status"]).unwrap_or("");
    let details: &[Value] = error
        .get("details")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let info_reason = details_of(details, ERROR_INFO).find_map(|d| str_at(d, &["reason"]));

    if let Some(reason) = key_problem(info_reason, google_status, message) {
        return Outcome::new(OutcomeClass::KeyInvalid).with_reason(reason);
    }
    if status == 429 || google_status == "RESOURCE_EXHAUSTED" {
        return resource_exhausted(message, details, now);
    }
    let reason = info_reason.or(Some(google_status)).and_then(code_token);
    let outcome = match google_status {
        // "User location is not supported": the gateway's location, so no key helps.
        "FAILED_PRECONDITION" => Outcome::new(OutcomeClass::ClientError),
        _ => by_status(status),
    };
    match reason {
        Some(reason) => outcome.with_reason(reason),
        None => outcome,
    }
}

/// A stream chunk with a top-level `error` is read like the HTTP error whose
/// status is `error.code` (a 503 "model is overloaded" mid-stream, say).
pub(super) fn classify_event(json: Option<&Value>, now: SystemTime) -> Option<Outcome> {
    let json = json?;
    let error = json.get("error").filter(|e| e.is_object())?;
    let status = status_code_of(error.get("code")).unwrap_or(500);
    Some(enforce_status(
        classify_body(status, Some(json), now),
        status,
    ))
}

/// The reason to report when the error is about the key itself.
fn key_problem(info_reason: Option<&str>, google_status: &str, message: &str) -> Option<String> {
    if let Some(reason) = info_reason {
        if reason.starts_with("API_KEY_") || KEY_REASONS.contains(&reason) {
            return code_token(reason);
        }
    }
    let lower = message.to_ascii_lowercase();
    let names_key = lower.contains("api key not valid")
        || lower.contains("api key not found")
        || lower.contains("api key expired")
        || lower.contains("has been suspended");
    // A bare PERMISSION_DENIED only counts when it is about the key or its
    // consumer; "permission denied on tuned model" is the request's problem.
    let denied_key = google_status == "PERMISSION_DENIED"
        && ["api key", "api_key", "consumer", "suspended", "blocked"]
            .iter()
            .any(|w| lower.contains(w));
    (names_key || denied_key).then(|| "API_KEY_INVALID".to_owned())
}

/// 429 RESOURCE_EXHAUSTED: per-day exhaustion parks the key until midnight
/// Pacific; `limit: 0` means the key's tier has no access to this model at all
/// (rotate, but do not hold it against the key); anything else is a short wait.
fn resource_exhausted(message: &str, details: &[Value], now: SystemTime) -> Outcome {
    let mut quota_ids: Vec<&str> = details_of(details, QUOTA_FAILURE)
        .filter_map(|d| d.get("violations").and_then(Value::as_array))
        .flatten()
        .filter_map(|v| str_at(v, &["quotaId"]))
        .collect();
    quota_ids.sort_unstable();
    quota_ids.dedup();
    let hint = details_of(details, RETRY_INFO)
        .find_map(|d| str_at(d, &["retryDelay"]))
        .and_then(hints::parse_go_duration)
        .or_else(|| duration_after(message, "retry in "));

    let per_day = quota_ids.iter().any(|id| id.contains("PerDay"));
    let per_minute = quota_ids.iter().any(|id| id.contains("PerMinute"));
    let outcome = if message.contains("limit: 0") {
        Outcome::new(OutcomeClass::RateLimited)
            .without_penalty()
            .with_retry_after(hint)
            .with_reason("quota_limit_zero")
    } else if per_day && !per_minute {
        let until_reset = hints::until_pacific_midnight(now);
        Outcome::new(OutcomeClass::QuotaDaily)
            .with_retry_after(hint.max(Some(until_reset)))
            .with_reason("quota_per_day")
    } else {
        Outcome::new(OutcomeClass::RateLimited)
            .with_retry_after(hint)
            .with_reason("RESOURCE_EXHAUSTED")
    };
    if quota_ids.is_empty() {
        // No quota named: nothing says which keys share it.
        return outcome;
    }
    outcome.with_signature(quota_ids.join(","))
}

/// The `details[]` entries of one `@type`.
fn details_of<'a>(details: &'a [Value], type_url: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    details
        .iter()
        .filter(move |d| str_at(d, &["@type"]) == Some(type_url))
}

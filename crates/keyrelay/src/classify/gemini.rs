//! Gemini (Google APIs): `{"error":{"code":429,"message":…,"status":"RESOURCE_EXHAUSTED",
//! "details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure",…}]}}`.
//!
//! Quotas belong to the Google Cloud project, not the key, and most are per
//! model (`quotaDimensions.model`, or "model: NAME" in the message): a 429 that
//! names a model cools the key for that model only. When the body names the
//! project (`ErrorInfo.metadata.consumer`, or "consumer 'project_number:N'"),
//! the outcome carries it as the key's quota group. Key problems come as
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
    let with_project = |outcome: Outcome| match project_of(details, message) {
        Some(project) => outcome.with_group(project),
        None => outcome,
    };

    if let Some(reason) = key_problem(info_reason, google_status, message) {
        return with_project(Outcome::new(OutcomeClass::KeyInvalid).with_reason(reason));
    }
    if status == 429 || google_status == "RESOURCE_EXHAUSTED" {
        return with_project(resource_exhausted(message, details, now));
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
/// Pacific; `limit: 0` means the key's tier has no access to the model at all
/// (parked for the day, for that model); anything else is a short wait. A
/// quota per model holds for that model only: the key keeps serving others.
fn resource_exhausted(message: &str, details: &[Value], now: SystemTime) -> Outcome {
    let violations: Vec<&Value> = details_of(details, QUOTA_FAILURE)
        .filter_map(|d| d.get("violations").and_then(Value::as_array))
        .flatten()
        .collect();
    let mut quota_ids: Vec<&str> = violations
        .iter()
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
    // The model the quota counts: named in the violation or the message; a
    // per-model quota id without a name still scopes to the request's model.
    let model = violations
        .iter()
        .find_map(|v| str_at(v, &["quotaDimensions", "model"]))
        .or_else(|| word_after(message, "model: "))
        .and_then(code_token)
        .or_else(|| {
            quota_ids
                .iter()
                .any(|id| id.contains("PerModel"))
                .then(String::new)
        });
    let outcome = if message.contains("limit: 0") {
        match &model {
            // This tier never serves the model: nothing changes before the day does.
            Some(_) => Outcome::new(OutcomeClass::QuotaDaily)
                .with_retry_after(hint.max(Some(hints::until_pacific_midnight(now)))),
            None => Outcome::new(OutcomeClass::RateLimited)
                .without_penalty()
                .with_retry_after(hint),
        }
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
    if let Some(model) = model {
        // Scoped to one model of one key (and its project's group): other
        // projects' keys have quotas of their own, so no shared signature.
        return outcome.for_model(model);
    }
    if quota_ids.is_empty() {
        // No quota named: nothing says which keys share it.
        return outcome;
    }
    outcome.with_signature(quota_ids.join(","))
}

/// The Google Cloud project a body names, as `projects/NUMBER`: from
/// `ErrorInfo.metadata.consumer`, or "for consumer 'project_number:N'".
fn project_of(details: &[Value], message: &str) -> Option<String> {
    let from_info = details_of(details, ERROR_INFO)
        .find_map(|d| str_at(d, &["metadata", "consumer"]))
        .and_then(|c| c.strip_prefix("projects/"));
    let number = from_info.or_else(|| word_after(message, "project_number:"))?;
    let number = number.trim_end_matches(['\'', '.']);
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("projects/{number}"))
}

/// The word right after `marker` in a message, up to a space, comma,
/// quote or line end.
fn word_after<'a>(message: &'a str, marker: &str) -> Option<&'a str> {
    let start = message.find(marker)? + marker.len();
    let rest = &message[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '\'' | '"'))
        .unwrap_or(rest.len());
    Some(&rest[..end]).filter(|w| !w.is_empty())
}

/// The `details[]` entries of one `@type`.
fn details_of<'a>(details: &'a [Value], type_url: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    details
        .iter()
        .filter(move |d| str_at(d, &["@type"]) == Some(type_url))
}

/// Gemini's rules.
pub const RULES: super::Rules = super::Rules {
    body: classify_body,
    event: |_, json, now| classify_event(json, now),
    proxy: None,
    group: None,
};

//! OpenAI: `{"error":{"message":…,"type":…,"param":…,"code":…}}`.
//!
//! `code` carries the meaning (`invalid_api_key`, `insufficient_quota`,
//! `rate_limit_exceeded`); older bodies leave it null and put the same word in
//! `type`, so both are read. A 429 is either "wait" or "no credit", never both.
//!
//! Rate limits are per model and shared by an organisation's keys: "Rate
//! limit reached for gpt-4o in organization org-… on tokens per min" cools the
//! key for that model, and names its quota group.

use keypool::{Outcome, OutcomeClass};
use serde_json::Value;

use super::{by_status, code_token, duration_after, enforce_status, status_code_of, str_at};

/// An HTTP error response.
pub(super) fn classify_body(status: u16, json: Option<&Value>) -> Outcome {
    let Some(error) = json.and_then(|j| j.get("error")).filter(|e| e.is_object()) else {
        return by_status(status);
    };
    let fallback = || {
        let outcome = by_status(status);
        match error_code(error) {
            Some(code) => outcome.with_reason(code),
            None => outcome,
        }
    };
    let outcome = known_code(error).unwrap_or_else(fallback);
    let message = str_at(error, &["message"]).unwrap_or("");
    let hint = duration_after(message, "try again in ");
    match outcome.class {
        // "Please try again in 20s." is the only hint a token-limit 429 carries in its body.
        OutcomeClass::RateLimited => {
            let mut outcome = outcome.with_retry_after(hint);
            if let Some((model, organization)) = rate_limit_subject(message) {
                outcome = outcome.for_model(model).with_group(organization);
            }
            outcome
        }
        _ => outcome,
    }
}

/// The model and organisation of "Rate limit reached for MODEL in
/// organization ORG on …", both as identifier tokens.
fn rate_limit_subject(message: &str) -> Option<(String, String)> {
    let rest = message.split_once("limit reached for ")?.1;
    let (model, rest) = rest.split_once(" in organization ")?;
    let organization = rest.split_whitespace().next()?;
    Some((code_token(model)?, code_token(organization)?))
}

/// The organisation an OpenAI-dialect response names in its
/// `openai-organization` header, on any answer: its keys share limits.
pub(super) fn organization_header(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get("openai-organization")?.to_str().ok()?.trim();
    code_token(value)
}

/// A data event whose JSON has a top-level `error` object (Chat Completions
/// and Responses streams both end that way on a late failure).
pub(super) fn classify_event(json: Option<&Value>) -> Option<Outcome> {
    let error = json?.get("error").filter(|e| e.is_object())?;
    Some(classify_error_object(error, |status, body| {
        classify_body(status, Some(body))
    }))
}

/// A stream error object: a numeric `code` is read as if it were the HTTP
/// status (through `by_status_body`, which gets `{"error": error}`), a string
/// code or type by name, anything else is a transient provider failure.
pub(super) fn classify_error_object(
    error: &Value,
    by_status_body: impl Fn(u16, &Value) -> Outcome,
) -> Outcome {
    if let Some(status) = status_code_of(error.get("code")) {
        let wrapped = serde_json::json!({ "error": error });
        return enforce_status(by_status_body(status, &wrapped), status);
    }
    if let Some(outcome) = known_code(error) {
        return outcome;
    }
    let reason = error_code(error).unwrap_or_else(|| "stream_error".to_owned());
    let class = match str_at(error, &["type"]) {
        Some("invalid_request_error") => OutcomeClass::ClientError,
        Some("requests" | "tokens" | "rate_limit_error") => OutcomeClass::RateLimited,
        _ => OutcomeClass::Transient,
    };
    let outcome = Outcome::new(class).with_reason(reason.clone());
    match class {
        // The same named failure on several keys at once is the provider's.
        OutcomeClass::Transient => outcome.with_signature(reason),
        _ => outcome,
    }
}

/// Codes (or, in old bodies, types) whose meaning does not depend on status.
fn known_code(error: &Value) -> Option<Outcome> {
    let code = str_at(error, &["code"]);
    let error_type = str_at(error, &["type"]);
    let is = |name: &str| code == Some(name) || error_type == Some(name);
    let message = str_at(error, &["message"]).unwrap_or("");
    let (class, default_reason) =
        if is("invalid_api_key") || message.starts_with("Incorrect API key provided") {
            (OutcomeClass::KeyInvalid, "invalid_api_key")
        } else if is("insufficient_quota")
            || is("billing_hard_limit_reached")
            || is("billing_not_active")
        {
            (OutcomeClass::KeyNoCredit, "insufficient_quota")
        } else if is("unsupported_country_region_territory") {
            // The gateway's location, not the key: every key would fail the same way.
            (
                OutcomeClass::ClientError,
                "unsupported_country_region_territory",
            )
        } else if is("rate_limit_exceeded") {
            (OutcomeClass::RateLimited, "rate_limit_exceeded")
        } else if is("model_not_found") {
            (OutcomeClass::ClientError, "model_not_found")
        } else {
            return None;
        };
    // Old bodies put the word in `type` and leave `code` null.
    let reason = code
        .and_then(code_token)
        .unwrap_or_else(|| default_reason.to_owned());
    Some(Outcome::new(class).with_reason(reason))
}

/// The most specific identifier in an error object: `code`, else `type`.
fn error_code(error: &Value) -> Option<String> {
    str_at(error, &["code"])
        .and_then(code_token)
        .or_else(|| str_at(error, &["type"]).and_then(code_token))
}

/// The rules of OpenAI Chat providers: OpenAI, and servers of its API
/// (LiteLLM's proxy answers some errors itself, see `litellm`).
pub const RULES: super::Rules = super::Rules {
    body: |status, json, _| classify_body(status, json),
    event: |_, json, _| classify_event(json),
    proxy: Some(super::litellm::classify_body),
    group: Some(organization_header),
};

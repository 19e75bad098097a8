//! Upstream error objects (OpenAI `{"error":{message,type,code}}`, OpenRouter
//! `{"error":{code:429,message,metadata}}`, vLLM `{object:"error",message,code}`)
//! as Anthropic error types and messages.

use serde_json::Value;

use crate::anthropic::ErrorKind;

/// How much of OpenRouter's `metadata.raw` (the upstream provider's own
/// error) is appended to the message: enough to explain, not a whole body.
const RAW_DETAIL_LIMIT: usize = 300;

/// The Anthropic error `type` for an upstream error object.
pub(super) fn anthropic_kind(error: &Value) -> &'static str {
    let status = error.get("code").and_then(Value::as_u64);
    if let Some(status) = status.and_then(|s| u16::try_from(s).ok()) {
        if (400..=599).contains(&status) {
            return ErrorKind::for_status(status).as_str();
        }
    }
    let words = ["code", "type"]
        .iter()
        .filter_map(|key| error.get(*key).and_then(Value::as_str))
        .chain(error.get("message").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    if words.contains("rate_limit") || words.contains("rate limit") {
        "rate_limit_error"
    } else if words.contains("overload") || words.contains("unavailable") {
        "overloaded_error"
    } else if words.contains("auth") || words.contains("api_key") || words.contains("permission") {
        // Before "invalid": `invalid_api_key` is an authentication problem.
        "authentication_error"
    } else if words.contains("invalid") || words.contains("context_length") {
        "invalid_request_error"
    } else {
        "api_error"
    }
}

/// The upstream message, with OpenRouter's short `metadata.raw` appended.
pub(super) fn message(error: &Value) -> String {
    let mut message = match error.get("message") {
        Some(Value::String(text)) => text.clone(),
        Some(other) if !other.is_null() => other.to_string(),
        _ => match error {
            Value::String(text) => text.clone(),
            _ => String::from("upstream error"),
        },
    };
    let raw = error.get("metadata").and_then(|m| m.get("raw"));
    if let Some(raw) = raw.and_then(Value::as_str).filter(|r| !r.is_empty()) {
        let detail: String = raw.chars().take(RAW_DETAIL_LIMIT).collect();
        message.push_str(" (");
        message.push_str(&detail);
        message.push(')');
    }
    message
}

//! A hub answer (an Anthropic message) as a whole `GenerateContentResponse`.
//!
//! - Text blocks become text parts; thinking blocks become thought parts
//!   (`"thought": true`) when the client asked for thoughts
//!   (`thinkingConfig.includeThoughts`), as Gemini shows them only then.
//! - tool_use blocks become `functionCall` parts with the hub's id as the
//!   call's `id` (Gemini 2.5+ clients send it back on the response).
//! - The stop reason becomes `finishReason` ([`finish_reason`]); usage
//!   becomes `usageMetadata` ([`usage_metadata`]).

use serde_json::{json, Map, Value};

use crate::anthropic::{ContentBlock, ErrorKind, MessagesResponse, StopReason, Usage};

/// What a Gemini answer says besides its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiMeta {
    /// The model the client named in its path (`modelVersion`).
    pub model: String,
    /// `responseId`.
    pub response_id: String,
    /// Whether thought parts are shown (`thinkingConfig.includeThoughts`).
    pub include_thoughts: bool,
}

/// The `GenerateContentResponse` body for `message`.
pub fn generate_content_response(message: &MessagesResponse, meta: &GeminiMeta) -> Value {
    let mut parts = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Text { text, .. } if !text.is_empty() => {
                parts.push(json!({ "text": text }))
            }
            ContentBlock::Thinking { thinking, .. }
                if meta.include_thoughts && !thinking.is_empty() =>
            {
                parts.push(json!({ "text": thinking, "thought": true }))
            }
            ContentBlock::ToolUse { id, name, input } => {
                parts.push(function_call(id, name, input.clone()))
            }
            _ => {}
        }
    }
    let candidate = json!({
        "content": {"parts": parts, "role": "model"},
        "finishReason": finish_reason(message.stop_reason),
        "index": 0,
    });
    response(vec![candidate], Some(&message.usage), meta)
}

/// A response (or stream chunk) around `candidates`.
pub(super) fn response(candidates: Vec<Value>, usage: Option<&Usage>, meta: &GeminiMeta) -> Value {
    let mut body = Map::new();
    body.insert("candidates".into(), Value::Array(candidates));
    if let Some(usage) = usage {
        body.insert("usageMetadata".into(), usage_metadata(usage));
    }
    body.insert("modelVersion".into(), json!(meta.model));
    body.insert("responseId".into(), json!(meta.response_id));
    Value::Object(body)
}

/// A `functionCall` part: `args` is a JSON object.
pub(super) fn function_call(id: &str, name: &str, input: Value) -> Value {
    let args = match input {
        Value::Object(_) => input,
        Value::Null => json!({}),
        other => json!({ "input": other }),
    };
    json!({ "functionCall": { "id": id, "name": name, "args": args } })
}

/// Gemini's `finishReason` for a hub stop reason.
pub fn finish_reason(stop: Option<StopReason>) -> &'static str {
    match stop {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => "MAX_TOKENS",
        Some(StopReason::Refusal) => "SAFETY",
        Some(
            StopReason::EndTurn
            | StopReason::StopSequence
            | StopReason::ToolUse
            | StopReason::PauseTurn,
        )
        | None => "STOP",
    }
}

/// `usageMetadata` for hub usage: the prompt counts cache reads and writes
/// (as Gemini's `promptTokenCount` includes cached content), and output is
/// `candidatesTokenCount` (the hub does not count thinking apart).
pub fn usage_metadata(usage: &Usage) -> Value {
    let prompt =
        usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
    let mut metadata = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": usage.output_tokens,
        "totalTokenCount": prompt + usage.output_tokens,
    });
    if usage.cache_read_input_tokens > 0 {
        metadata["cachedContentTokenCount"] = json!(usage.cache_read_input_tokens);
    }
    metadata
}

/// Google's error object (`{"error": {"code", "message", "status"}}`) for a
/// hub error type (`rate_limit_error`…).
pub fn error_body(kind: &str, message: &str) -> Value {
    let kind = ErrorKind::from_name(kind).unwrap_or(ErrorKind::Api);
    json!({"error": {"code": kind.status(), "message": message, "status": kind.google_status()}})
}

//! Ollama `/api/chat` response → Anthropic message, and the mappings the
//! whole response and the stream share (stop reason, usage, tool ids, errors).

use serde_json::{json, Value};

use super::wire::{ChatChunk, ResponseToolCall};
use crate::anthropic::{ContentBlock, MessagesResponse, StopReason, Usage};
use crate::TranslateError;

/// A whole (`stream: false`) response as an Anthropic message.
pub(super) fn translate(
    body: &[u8],
    model: &str,
    id: &str,
) -> Result<MessagesResponse, TranslateError> {
    let chunk: ChatChunk = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("Ollama response is not valid JSON: {e}")))?;
    if let Some(error) = &chunk.error {
        return Err(TranslateError(format!(
            "Ollama error: {}",
            error_message(error)
        )));
    }
    let mut content = Vec::new();
    let mut tool_calls = 0;
    if let Some(message) = &chunk.message {
        // Anthropic puts thinking before the answer; Ollama sends both fields at once.
        if let Some(thinking) = message.thinking.as_deref().filter(|t| !t.is_empty()) {
            content.push(ContentBlock::Thinking {
                thinking: thinking.to_owned(),
                signature: String::new(),
            });
        }
        if let Some(text) = message.content.as_deref().filter(|t| !t.is_empty()) {
            content.push(ContentBlock::text(text));
        }
        for (name, input) in message
            .tool_calls
            .iter()
            .flatten()
            .filter_map(tool_call_parts)
        {
            content.push(ContentBlock::ToolUse {
                id: tool_use_id(id, tool_calls),
                name,
                input,
            });
            tool_calls += 1;
        }
    }
    let stop_reason = stop_reason(chunk.done_reason.as_deref(), tool_calls > 0);
    Ok(MessagesResponse::new(
        id.to_owned(),
        model.to_owned(),
        content,
        stop_reason,
        usage(&chunk),
    ))
}

/// Ollama gives tool calls no usable id, so each gets one derived from the
/// message id and its position: deterministic, and unique across a conversation
/// because message ids are.
pub(super) fn tool_use_id(message_id: &str, index: usize) -> String {
    let base = message_id.strip_prefix("msg_").unwrap_or(message_id);
    format!("toolu_{base}_{index}")
}

/// A tool call's name and its arguments as an object (what Anthropic's `input`
/// must be); a model that sends a JSON string instead gets it parsed. A call
/// without a name cannot be run by the client and is dropped.
pub(super) fn tool_call_parts(call: &ResponseToolCall) -> Option<(String, Value)> {
    let function = call.function.as_ref().filter(|f| !f.name.is_empty())?;
    let input = match &function.arguments {
        Value::Object(_) => function.arguments.clone(),
        Value::String(text) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({})),
        _ => json!({}),
    };
    Some((function.name.clone(), input))
}

/// `length` means `num_predict` was reached; a stop that produced tool calls
/// is a tool-use turn. Ollama reports a stop sequence as plain `stop`.
pub(super) fn stop_reason(done_reason: Option<&str>, saw_tool_use: bool) -> StopReason {
    match done_reason {
        Some("length") => StopReason::MaxTokens,
        _ if saw_tool_use => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

/// `prompt_eval_count` includes cached tokens; Anthropic's `input_tokens` does not.
pub(super) fn usage(chunk: &ChatChunk) -> Usage {
    let prompt = chunk.prompt_eval_count.unwrap_or(0);
    let cached = chunk.prompt_eval_cached_count.unwrap_or(0).min(prompt);
    Usage {
        input_tokens: prompt - cached,
        output_tokens: chunk.eval_count.unwrap_or(0),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: cached,
    }
}

/// The text of an `error` field: a string, or an object's `message`.
pub(super) fn error_message(error: &Value) -> String {
    match error {
        Value::String(text) => text.clone(),
        Value::Object(fields) => match fields.get("message") {
            Some(Value::String(text)) => text.clone(),
            _ => error.to_string(),
        },
        other => other.to_string(),
    }
}

/// The Anthropic error type for an Ollama error message, by its wording
/// (Ollama errors carry no code inside a stream).
pub(super) fn error_kind(message: &str) -> &'static str {
    let message = message.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| message.contains(w));
    if has(&["unauthorized", "authentication", "api key", "forbidden"]) {
        "authentication_error"
    } else if has(&["limit", "quota", "too many requests"]) {
        // "rate limit", and Cloud's "you've reached your hourly usage limit".
        "rate_limit_error"
    } else if has(&["overloaded", "unavailable", "capacity"]) {
        "overloaded_error"
    } else if has(&["invalid"]) {
        "invalid_request_error"
    } else {
        "api_error"
    }
}

//! A hub answer (an Anthropic message) as a whole `chat.completion`.
//!
//! - Text blocks join into `message.content` (`null` when the turn only
//!   calls tools); thinking joins into `message.reasoning_content`, the
//!   field DeepSeek, vLLM and their clients read.
//! - tool_use blocks become `message.tool_calls`, arguments as JSON text.
//! - The stop reason becomes `finish_reason` ([`finish_reason`]); usage
//!   becomes `prompt_tokens` (cached and cache-written tokens included, as
//!   OpenAI counts them), `completion_tokens`, `total_tokens` and
//!   `prompt_tokens_details.cached_tokens`.

use serde_json::{json, Map, Value};

use crate::anthropic::{ContentBlock, MessagesResponse, StopReason, Usage};

/// What a Chat answer says besides the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMeta {
    /// `chatcmpl-…`.
    pub id: String,
    /// The model name the client asked for.
    pub model: String,
    /// Unix seconds.
    pub created: u64,
}

/// The `chat.completion` body for `message`.
pub fn completion(message: &MessagesResponse, meta: &ChatMeta) -> Value {
    let mut texts = Vec::new();
    let mut thoughts = Vec::new();
    let mut calls = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Text { text, .. } => texts.push(text.as_str()),
            ContentBlock::Thinking { thinking, .. } if !thinking.is_empty() => {
                thoughts.push(thinking.as_str());
            }
            ContentBlock::ToolUse { id, name, input } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": arguments(input)},
            })),
            _ => {}
        }
    }
    let text = texts.concat();
    let mut body = Map::new();
    body.insert("role".into(), json!("assistant"));
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        Value::String(text)
    };
    body.insert("content".into(), content);
    body.insert("refusal".into(), Value::Null);
    if !thoughts.is_empty() {
        body.insert("reasoning_content".into(), json!(thoughts.concat()));
    }
    if !calls.is_empty() {
        body.insert("tool_calls".into(), Value::Array(calls));
    }
    json!({
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [{
            "index": 0,
            "message": body,
            "logprobs": null,
            "finish_reason": finish_reason(message.stop_reason),
        }],
        "usage": usage(&message.usage),
    })
}

/// The OpenAI `finish_reason` for a hub stop reason.
pub fn finish_reason(stop: Option<StopReason>) -> &'static str {
    match stop {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => "length",
        Some(StopReason::ToolUse) => "tool_calls",
        Some(StopReason::Refusal) => "content_filter",
        Some(StopReason::EndTurn | StopReason::StopSequence | StopReason::PauseTurn) | None => {
            "stop"
        }
    }
}

/// OpenAI's `usage` object for hub usage.
pub fn usage(usage: &Usage) -> Value {
    let prompt =
        usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
    })
}

/// Tool input as the JSON text OpenAI clients parse.
fn arguments(input: &Value) -> String {
    if input.is_null() {
        String::from("{}")
    } else {
        input.to_string()
    }
}

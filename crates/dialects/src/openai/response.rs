//! A whole `chat.completion` body as an Anthropic message.
//!
//! Tool-call arguments that are not a JSON object (invalid JSON, a bare
//! string…) are kept, not dropped: the tool_use input becomes
//! `{"raw_arguments": "<the text as sent>"}`, so the tool call still reaches
//! the client, its validation fails visibly, and the model sees what it sent.

use serde_json::{json, Value};

use super::errors;
use super::wire::{Completion, ToolCall};
use crate::anthropic::{ContentBlock, MessagesResponse, StopReason};
use crate::translate::TranslateError;

/// The key that holds tool arguments that were not a JSON object.
pub(super) const RAW_ARGUMENTS_KEY: &str = "raw_arguments";

/// Translates a whole response body; `id` and `model` are what the client sees.
pub(super) fn translate(
    body: &[u8],
    model: &str,
    id: &str,
) -> Result<MessagesResponse, TranslateError> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("upstream response is not a chat completion: {e}")))?;
    if let Some(error) = completion.error() {
        return Err(TranslateError(format!(
            "upstream error ({}): {}",
            errors::anthropic_kind(&error),
            errors::message(&error)
        )));
    }
    let choice = completion
        .first_choice()
        .ok_or_else(|| TranslateError(String::from("upstream response has no choices")))?;
    let mut content = Vec::new();
    let mut refused = false;
    if let Some(message) = choice.body() {
        let reasoning = message.reasoning_text();
        if !reasoning.is_empty() {
            content.push(ContentBlock::Thinking {
                thinking: reasoning,
                signature: String::new(),
            });
        }
        let text = message.content_text();
        let refusal = message.refusal_text();
        if !text.is_empty() {
            content.push(ContentBlock::text(text));
        } else if !refusal.is_empty() {
            refused = true;
            content.push(ContentBlock::text(refusal));
        }
        for (n, call) in message.tool_calls.iter().enumerate() {
            content.push(tool_use(call, id, n));
        }
    }
    let has_tools = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolUse { .. }));
    let mut stop_reason = stop_reason(choice.finish_reason.as_deref(), has_tools);
    if refused && stop_reason == StopReason::EndTurn {
        stop_reason = StopReason::Refusal;
    }
    let usage = completion
        .usage
        .as_ref()
        .map(|u| u.to_anthropic())
        .unwrap_or_default();
    Ok(MessagesResponse::new(
        id.to_owned(),
        model.to_owned(),
        content,
        stop_reason,
        usage,
    ))
}

fn tool_use(call: &ToolCall, message_id: &str, n: usize) -> ContentBlock {
    let function = call.function.as_ref();
    let name = function.and_then(|f| f.name.clone()).unwrap_or_default();
    let arguments = function.map(|f| f.arguments_text()).unwrap_or_default();
    ContentBlock::ToolUse {
        id: call
            .id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| tool_use_id(message_id, n)),
        name,
        input: tool_input(&arguments),
    }
}

/// The tool input object for argument text (see the module docs).
pub(super) fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => object,
        _ => json!({ RAW_ARGUMENTS_KEY: arguments }),
    }
}

/// A deterministic `toolu_…` id for a call the provider gave no id.
pub(super) fn tool_use_id(message_id: &str, n: usize) -> String {
    let base = message_id.strip_prefix("msg_").unwrap_or(message_id);
    format!("toolu_{base}_{n}")
}

/// The Anthropic stop reason for an OpenAI `finish_reason`. Some servers
/// (Ollama, vLLM) say `stop` after tool calls; a turn with tool calls is `tool_use`.
pub(super) fn stop_reason(finish_reason: Option<&str>, has_tool_calls: bool) -> StopReason {
    match finish_reason {
        Some("length" | "max_tokens") => StopReason::MaxTokens,
        Some("content_filter" | "refusal") => StopReason::Refusal,
        Some("tool_calls" | "function_call" | "tool_use") => StopReason::ToolUse,
        _ if has_tool_calls => StopReason::ToolUse,
        _ => StopReason::EndTurn,
    }
}

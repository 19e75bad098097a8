//! Asking a provider for the rest of an answer it began: the request is
//! sent again with what the client already received as the start of the
//! assistant's turn (a "prefill"), and a provider that continues a
//! prefilled turn exactly answers with only what follows it.
//!
//! Which providers do, from their own documentation:
//! - Anthropic Messages: "Claude's response will continue from where the
//!   Assistant message leaves off"; the prefill may not end in whitespace,
//!   and prefilling is not supported with extended thinking.
//! - Gemini: a `contents` list ending in a `model` turn is continued from
//!   its last text (some newer models refuse such a request; it then fails
//!   like any refused continuation).
//! - Ollama's `/api/chat`: a last `assistant` message is continued.
//! - OpenRouter: documents assistant prefill ("include a message with role
//!   assistant at the end of your messages array"); it continues exactly
//!   when the model behind it does, which OpenAI's models do not (they
//!   answer the turn anew).
//! - DeepSeek's chat prefix completion (beta, `https://api.deepseek.com/beta`):
//!   the last message is an `assistant` one marked `"prefix": true`.
//! - OpenAI Chat Completions, and the OpenAI Responses API: no prefill.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::anthropic::{Content, ContentBlock, Message, MessagesRequest, Role};

/// How a provider continues a turn the request already began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prefill {
    /// It does not: a prefilled turn may be answered anew.
    Off,
    /// A last assistant (model) turn is continued from where it leaves off.
    FinalTurn,
    /// As [`Prefill::FinalTurn`], with the last message marked
    /// `"prefix": true` (DeepSeek's chat prefix completion).
    PrefixFlag,
}

impl Prefill {
    pub fn continues(self) -> bool {
        self != Prefill::Off
    }

    /// Marks the last message of a Chat Completions body as the prefix
    /// to continue, when this provider wants it so.
    pub fn mark(self, body: &mut Value) {
        if self != Prefill::PrefixFlag {
            return;
        }
        let last = body
            .get_mut("messages")
            .and_then(Value::as_array_mut)
            .and_then(|messages| messages.last_mut())
            .and_then(Value::as_object_mut);
        if let Some(last) = last {
            last.insert("prefix".into(), Value::Bool(true));
        }
    }
}

/// `text` as it can go into a prefill: Anthropic refuses one that ends in
/// whitespace, so trailing whitespace is left off (the continuation
/// generates it again, and [`crate::splice::Splice`] skips the repeat).
pub fn prefill_text(text: &str) -> &str {
    text.trim_end()
}

/// `request` with `text` as the start of the assistant's answer: a last
/// assistant message (a client's own prefill) is extended, else one is added.
pub fn with_prefill(request: &MessagesRequest, text: &str) -> MessagesRequest {
    let mut request = request.clone();
    if text.is_empty() {
        return request;
    }
    match request.messages.last_mut() {
        Some(last) if last.role == Role::Assistant => {
            let mut blocks = last.content.blocks();
            match blocks.last_mut() {
                Some(ContentBlock::Text { text: own, .. }) => own.push_str(text),
                _ => blocks.push(ContentBlock::text(text)),
            }
            last.content = Content::Blocks(blocks);
        }
        _ => request.messages.push(Message {
            role: Role::Assistant,
            content: Content::Text(text.to_owned()),
        }),
    }
    request
}

/// `messages` (a JSON list of `{"role", "content"}` messages, as Anthropic
/// Messages, Chat Completions and Ollama write them) with `text` as the
/// start of the assistant's answer.
pub fn push_assistant_text(messages: &mut Vec<Value>, text: &str, prefill: Prefill) {
    if text.is_empty() {
        return;
    }
    let last_is_assistant = messages
        .last()
        .is_some_and(|m| m.get("role").and_then(Value::as_str) == Some("assistant"));
    let extended = last_is_assistant
        && messages
            .last_mut()
            .and_then(|last| last.get_mut("content"))
            .is_some_and(|content| extend_text(content, text));
    if !extended {
        messages.push(serde_json::json!({"role": "assistant", "content": text}));
    }
    if let Some(Value::Object(last)) = messages.last_mut() {
        if prefill == Prefill::PrefixFlag {
            last.insert("prefix".into(), Value::Bool(true));
        }
    }
}

/// Appends `text` to a message's content, a string or a list ending in a
/// text part; false when it is neither.
fn extend_text(content: &mut Value, text: &str) -> bool {
    match content {
        Value::String(own) => {
            own.push_str(text);
            true
        }
        Value::Array(parts) => match parts.last_mut() {
            Some(Value::Object(part))
                if part.get("type").and_then(Value::as_str) == Some("text") =>
            {
                match part.get_mut("text") {
                    Some(Value::String(own)) => {
                        own.push_str(text);
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests;

//! The hub request for an Anthropic-dialect provider (Anthropic, Kimi,
//! MiniMax…) when the client spoke another API: the request keyrelay built
//! goes out as Anthropic Messages, and the answer — whole or streamed — is
//! read back as is. (An Anthropic Messages client's own request is forwarded
//! byte for byte and never comes here.)
//!
//! A request built from another API can ask what an Anthropic model refuses,
//! so it is made acceptable first:
//! - `max_tokens` is required: [`DEFAULT_MAX_TOKENS`] when none was given
//!   (plus the thinking budget, which counts against it).
//! - Thinking: the budget must be at least [`MIN_THINKING_BUDGET`] and below
//!   `max_tokens`, else thinking is left off. It is also left off when a tool
//!   is forced (Anthropic refuses both together), and when the last assistant
//!   turn called tools without a signed thinking block first (Anthropic
//!   wants that block back, and APIs such as Chat Completions cannot carry
//!   it). With thinking on, `temperature` and `top_k` are dropped.
//! - `temperature` is clamped to Anthropic's 0–1 (OpenAI's runs to 2); with
//!   both `temperature` and `top_p` set, `top_p` is dropped (newer models
//!   take only one).
//! - `output_config.format` (structured output) is dropped: not every
//!   Anthropic-dialect model takes it, and the request's system prompt
//!   already asks for the JSON (see the Chat Completions inbound module).
//! - Stop sequences of only whitespace are dropped (Anthropic refuses them).

use serde_json::Value;

use super::decode::AnthropicEvents;
use super::types::{ContentBlock, MessagesRequest, MessagesResponse, Role, Thinking, ToolChoice};
use crate::translate::{ProviderRequest, StreamTranslate, TranslateError, Translator};

/// `max_tokens` when the client gave none. Every current Claude model
/// allows at least this much output.
pub const DEFAULT_MAX_TOKENS: u32 = 8192;

/// Anthropic's smallest thinking budget.
pub const MIN_THINKING_BUDGET: u32 = 1024;

/// Hub requests out to, and answers back from, an Anthropic-dialect provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnthropicUpstream;

impl Translator for AnthropicUpstream {
    fn request(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<ProviderRequest, TranslateError> {
        let mut request = request.clone();
        request.model = model.to_owned();
        make_acceptable(&mut request);
        let body = serde_json::to_value(&request)
            .map_err(|e| TranslateError(format!("cannot encode the Anthropic request: {e}")))?;
        Ok(ProviderRequest {
            path: String::from("/v1/messages"),
            query: None,
            body,
        })
    }

    fn response(
        &self,
        body: &[u8],
        model: &str,
        id: &str,
    ) -> Result<MessagesResponse, TranslateError> {
        let mut message: MessagesResponse = serde_json::from_slice(body).map_err(|e| {
            TranslateError(format!(
                "upstream response is not an Anthropic message: {e}"
            ))
        })?;
        message.id = id.to_owned();
        message.model = model.to_owned();
        Ok(message)
    }

    fn stream(&self, model: &str, id: &str) -> Box<dyn StreamTranslate> {
        Box::new(AnthropicEvents::new(model, id))
    }
}

/// Adjusts `request` to what Anthropic accepts (see the module docs).
fn make_acceptable(request: &mut MessagesRequest) {
    if let Some(Value::Object(config)) = &mut request.output_config {
        config.remove("format");
        if config.is_empty() {
            request.output_config = None;
        }
    }
    let budget = match request.thinking {
        Some(Thinking::Enabled { budget_tokens }) => Some(budget_tokens),
        _ => None,
    };
    let max_tokens = match (request.max_tokens, budget) {
        (Some(max), _) => max,
        (None, Some(budget)) => budget.saturating_add(DEFAULT_MAX_TOKENS),
        (None, None) => DEFAULT_MAX_TOKENS,
    };
    request.max_tokens = Some(max_tokens);
    if let Some(budget) = budget {
        let budget = budget.min(max_tokens.saturating_sub(1));
        let forced_tool = matches!(
            request.tool_choice,
            Some(ToolChoice::Any { .. } | ToolChoice::Tool { .. })
        );
        if budget < MIN_THINKING_BUDGET || forced_tool || unsigned_tool_turn(request) {
            request.thinking = None;
        } else {
            request.thinking = Some(Thinking::Enabled {
                budget_tokens: budget,
            });
            request.temperature = None;
            request.top_k = None;
        }
    }
    request.temperature = request.temperature.map(|t| t.clamp(0.0, 1.0));
    if request.temperature.is_some() {
        request.top_p = None;
    }
    if let Some(stops) = &mut request.stop_sequences {
        stops.retain(|s| !s.trim().is_empty());
        if stops.is_empty() {
            request.stop_sequences = None;
        }
    }
}

/// Whether the last assistant turn calls a tool without starting with a
/// thinking block, which Anthropic refuses while thinking is on.
fn unsigned_tool_turn(request: &MessagesRequest) -> bool {
    let Some(last) = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == Role::Assistant)
    else {
        return false;
    };
    let blocks = last.content.blocks();
    let calls = blocks
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolUse { .. }));
    let signed = matches!(
        blocks.first(),
        Some(ContentBlock::Thinking { signature, .. }) if !signature.is_empty()
    ) || matches!(blocks.first(), Some(ContentBlock::RedactedThinking { .. }));
    calls && !signed
}

#[cfg(test)]
mod tests;

//! Counting a request's input tokens: with the provider's own counter where
//! its dialect has one (Anthropic `count_tokens`, Gemini `countTokens`),
//! else a local estimate.

use serde_json::json;

use crate::anthropic::{Content, ContentBlock, MessagesRequest, System, ToolResultContent};
use crate::dialect::TokenCounter;
use crate::{Dialect, ProviderRequest, TranslateError};

/// Tokens counted for an image whose size is unknown (Anthropic charges about
/// width × height / 750; a typical screenshot lands near this).
const IMAGE_TOKENS: u64 = 1_600;

impl Dialect {
    /// The provider's own count of `request`'s input for `model`; `None`
    /// when this dialect has no counter.
    pub fn count_tokens_request(
        self,
        request: &MessagesRequest,
        model: &str,
    ) -> Option<Result<ProviderRequest, TranslateError>> {
        match self.token_counter() {
            TokenCounter::AnthropicCountTokens => {
                let mut body = json!({ "model": model, "messages": request.messages });
                if let Some(system) = &request.system {
                    body["system"] = json!(system);
                }
                if let Some(tools) = &request.tools {
                    body["tools"] = json!(tools);
                }
                Some(Ok(ProviderRequest {
                    path: String::from("/v1/messages/count_tokens"),
                    query: None,
                    body,
                }))
            }
            TokenCounter::GeminiCountTokens => {
                Some(crate::gemini::count_tokens_request(request, model))
            }
            TokenCounter::Estimate => None,
        }
    }

    /// The input tokens a counter's answer reports.
    pub fn count_tokens_response(self, body: &[u8]) -> Result<u64, TranslateError> {
        match self.token_counter() {
            TokenCounter::GeminiCountTokens => crate::gemini::count_tokens_response(body),
            _ => serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["input_tokens"].as_u64())
                .ok_or_else(|| TranslateError(String::from("count answer without input_tokens"))),
        }
    }
}

/// A local estimate: about four characters of text (or JSON) per token, a
/// flat cost per image, and a few tokens of framing per message. Good enough
/// for a client deciding when to compact; not for billing.
pub fn estimate_tokens(request: &MessagesRequest) -> u64 {
    let mut chars = 0usize;
    let mut images = 0u64;
    match &request.system {
        Some(System::Text(text)) => chars += text.len(),
        Some(System::Blocks(blocks)) => count_blocks(blocks, &mut chars, &mut images),
        None => {}
    }
    for message in &request.messages {
        chars += 12;
        match &message.content {
            Content::Text(text) => chars += text.len(),
            Content::Blocks(blocks) => count_blocks(blocks, &mut chars, &mut images),
        }
    }
    for tool in request.tools.iter().flatten() {
        chars += tool.name.len() + tool.description.as_ref().map_or(0, String::len);
        chars += tool
            .input_schema
            .as_ref()
            .map_or(0, |s| s.to_string().len());
    }
    (chars as u64).div_ceil(4) + images * IMAGE_TOKENS
}

fn count_blocks(blocks: &[ContentBlock], chars: &mut usize, images: &mut u64) {
    for block in blocks {
        match block {
            ContentBlock::Text { text, .. } => *chars += text.len(),
            ContentBlock::Image { .. } => *images += 1,
            ContentBlock::ToolUse { name, input, .. } => {
                *chars += name.len() + input.to_string().len()
            }
            ContentBlock::ToolResult { content, .. } => match content {
                Some(ToolResultContent::Text(text)) => *chars += text.len(),
                Some(ToolResultContent::Blocks(inner)) => count_blocks(inner, chars, images),
                None => {}
            },
            ContentBlock::Thinking { thinking, .. } => *chars += thinking.len(),
            ContentBlock::RedactedThinking { data } => *chars += data.len() / 2,
            ContentBlock::Unknown(value) => *chars += value.to_string().len(),
        }
    }
}

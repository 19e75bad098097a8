//! `POST /v1/messages/count_tokens` for translated providers: the provider's
//! own counter where it has one (Gemini `countTokens`), else a local estimate.

use axum::response::{IntoResponse, Response};
use dialects::anthropic::{Content, ContentBlock, MessagesRequest, System, ToolResultContent};
use http::HeaderValue;
use keypool::OutcomeClass;
use serde_json::json;

use super::attempt_log::AttemptLog;
use super::render::{decorate, Trail};
use super::translated::provider_call;
use super::Gateway;
use crate::call::{RequestFacts, Upstream, UpstreamBody};
use crate::dialect::TokenCounter;
use crate::registry::Provider;

/// Tokens counted for an image whose size is unknown (Anthropic charges about
/// width × height / 750; a typical screenshot lands near this).
const IMAGE_TOKENS: u64 = 1_600;

pub async fn count(
    gateway: &Gateway,
    provider: &Provider,
    request: &MessagesRequest,
    model: &str,
) -> Response {
    if provider.spec.dialect.token_counter() == TokenCounter::GeminiCountTokens {
        match gemini_count(gateway, provider, request, model).await {
            Ok(tokens) => {
                let response = axum::Json(json!({"input_tokens": tokens})).into_response();
                let trail = Trail {
                    provider,
                    model: Some(model),
                    fallback: 0,
                    key: None,
                    log: &AttemptLog::default(),
                };
                return decorate(response, &trail, OutcomeClass::Success);
            }
            Err(reason) => {
                tracing::debug!(provider = %provider.name(), %reason, "countTokens failed; estimating locally")
            }
        }
    }
    estimated(request)
}

/// Gemini's own counter, through the key pool like any request.
async fn gemini_count(
    gateway: &Gateway,
    provider: &Provider,
    request: &MessagesRequest,
    model: &str,
) -> Result<u64, String> {
    let counted =
        dialects::gemini::count_tokens_request(request, model).map_err(|e| e.to_string())?;
    let outbound = provider_call(provider, &counted)?;
    let finished = gateway
        .caller
        .call(provider, &outbound, &RequestFacts::for_model(model))
        .await
        .map_err(|refused| format!("{:?}", refused.refusal))?;
    match finished.value {
        Upstream::Response(response) if response.status.is_success() => match response.body {
            UpstreamBody::Full(bytes) => {
                dialects::gemini::count_tokens_response(&bytes).map_err(|e| e.to_string())
            }
            UpstreamBody::Stream(_) => Err("countTokens answered with a stream".into()),
        },
        Upstream::Response(response) => Err(format!("HTTP {}", response.status.as_u16())),
        Upstream::Failed { message, .. } => Err(message),
    }
}

fn estimated(request: &MessagesRequest) -> Response {
    let mut response =
        axum::Json(json!({"input_tokens": estimate_tokens(request)})).into_response();
    response.headers_mut().insert(
        "x-keyrelay-token-count",
        HeaderValue::from_static("estimate"),
    );
    response
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

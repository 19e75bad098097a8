//! Anthropic Messages ⇄ OpenAI Chat Completions (`POST /chat/completions`),
//! the dialect of OpenAI, OpenRouter, LiteLLM, local servers (Ollama, LM
//! Studio, vLLM) and custom openai-chat providers.
//!
//! - `write`: the request body, written from the request read in place;
//!   `request` (model-dependent token and effort fields) and `messages`
//!   (system prompt, messages, tool calls and tool results) say the rules
//!   and build the same body as values, the reference for tests.
//! - `response`: a whole `chat.completion` as an Anthropic message.
//! - `stream` and `tool_calls`: a streamed response as Anthropic events.
//! - `wire`: the lenient OpenAI response shapes; `errors`: error mapping.
//! - `inbound`: the other direction — Chat Completions clients through the
//!   hub to providers of other dialects.
//! - `responses_in`: Responses API clients (Codex CLI…) through the hub.

mod errors;
pub mod inbound;
#[cfg(test)]
mod messages;
mod request;
mod response;
pub mod responses_in;
mod stream;
mod tool_calls;
mod wire;
mod write;

use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::translate::{ProviderRequest, StreamTranslate, TranslateError, Translator, WireRequest};

/// Translates Anthropic Messages to and from OpenAI Chat Completions.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiChat;

impl Translator for OpenAiChat {
    fn request(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<ProviderRequest, TranslateError> {
        crate::translate::via_bytes(self, request, model)
    }

    fn request_wire(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<WireRequest, TranslateError> {
        self.request_bytes(&crate::translate::hub_json(request)?, model)
    }

    fn request_bytes(&self, body: &[u8], model: &str) -> Result<WireRequest, TranslateError> {
        let view = crate::translate::view(body)?;
        Ok(WireRequest {
            path: String::from("/chat/completions"),
            query: None,
            body: write::body(&view, model, body.len()),
        })
    }

    fn response(
        &self,
        body: &[u8],
        model: &str,
        id: &str,
    ) -> Result<MessagesResponse, TranslateError> {
        response::translate(body, model, id)
    }

    fn stream(&self, model: &str, id: &str) -> Box<dyn StreamTranslate> {
        Box::new(stream::ChatStream::new(model, id))
    }
}

#[cfg(test)]
mod tests;

//! Anthropic Messages ⇄ Ollama `/api/chat` (local Ollama and Ollama Cloud,
//! `https://ollama.com`), per Ollama's docs/api.md.
//!
//! Requests always set `stream` (Ollama streams unless told `false`). Whole
//! responses and NDJSON streams come back as Anthropic messages and events.
//! What has no Ollama form is listed in `request.rs`.

mod request;
mod response;
mod stream;
mod wire;

#[cfg(test)]
mod tests;

use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::{ProviderRequest, StreamTranslate, TranslateError, Translator};

/// The Ollama `/api/chat` dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ollama;

impl Translator for Ollama {
    fn request(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<ProviderRequest, TranslateError> {
        Ok(ProviderRequest {
            path: "/api/chat".to_owned(),
            query: None,
            body: request::build(request, model)?,
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
        Box::new(stream::OllamaStream::new(model, id))
    }
}

//! Anthropic Messages ⇄ Gemini `generateContent` /
//! `streamGenerateContent?alt=sse` (the Gemini API, `v1beta`).
//!
//! - requests: `write.rs` (the body written from the request read in place:
//!   turns, tool calls and results, images, system instruction, tools),
//!   `request.rs` (paths, generation and thinking config, tool config;
//!   with `contents.rs`, the value-built reference for tests),
//!   `schema.rs` (tool schemas cleaned to Gemini's OpenAPI subset);
//! - responses: `response.rs` (whole) and `stream.rs` + `frames.rs` (SSE);
//! - `ids.rs`: how thought signatures and Gemini call ids survive inside
//!   Anthropic `tool_use` ids and thinking signatures;
//! - `wire.rs`: Gemini's response types, stop reasons, usage and error types;
//! - `inbound/`: the other way round, Gemini's API as clients speak it,
//!   through the hub to providers of another dialect.

mod cleaned;
#[cfg(test)]
mod contents;
mod frames;
mod ids;
pub mod inbound;
mod request;
mod response;
mod schema;
mod stream;
mod wire;
mod write;

use serde::Deserialize;

use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::translate::{ProviderRequest, StreamTranslate, TranslateError, Translator, WireRequest};

/// The Gemini dialect: `POST /v1beta/models/{model}:generateContent`, or
/// `:streamGenerateContent` with `alt=sse` when the request streams.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gemini;

impl Translator for Gemini {
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
        write::generate(&view, model, body.len())
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
        Box::new(stream::GeminiStream::new(model, id))
    }
}

/// `POST /v1beta/models/{model}:countTokens` for a Messages request: the
/// whole request (`contents`, `systemInstruction`, `tools`) goes in
/// `generateContentRequest`, with `model: "models/{model}"` as Gemini requires
/// there.
pub fn count_tokens_request(
    request: &MessagesRequest,
    model: &str,
) -> Result<ProviderRequest, TranslateError> {
    let body = crate::translate::hub_json(request)?;
    let view = crate::translate::view(&body)?;
    write::count_tokens(&view, model, body.len())?.into_value()
}

/// The `totalTokens` of a `countTokens` response. Gemini leaves zero counts
/// out of its JSON, so an absent count is 0; an `error` body is an error.
pub fn count_tokens_response(body: &[u8]) -> Result<u64, TranslateError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct CountTokensResponse {
        total_tokens: Option<u64>,
        error: Option<wire::ApiError>,
    }
    let response: CountTokensResponse = serde_json::from_slice(body).map_err(|e| {
        TranslateError(format!(
            "Gemini countTokens response is not valid JSON: {e}"
        ))
    })?;
    match response.error {
        Some(error) => Err(TranslateError(format!("Gemini error: {}", error.text()))),
        None => Ok(response.total_tokens.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests;

//! Gemini's own API as clients speak it (`POST
//! /v1beta/models/{model}:generateContent` and `:streamGenerateContent`
//! from Gemini CLI and the google-genai SDKs), through the hub for
//! providers of another dialect:
//!
//! - [`GenerateContentRequest::to_messages`]: the client's request as an
//!   Anthropic Messages request, which the provider's own translator takes
//!   on ([`CountTokensRequest::to_messages`] for `:countTokens`);
//! - [`generate_content_response`]: the provider's answer, read back as an
//!   Anthropic message, as a `GenerateContentResponse`;
//! - [`GeminiChunks`]: the provider's stream, read back as Anthropic
//!   events, as `streamGenerateContent` chunks (SSE or a JSON array).
//!
//! What survives: `systemInstruction`, user and model turns (text, images
//! inline or by public URL, function calls and responses, with call ids
//! paired), function declarations (Gemini's schema subset turned into JSON
//! Schema, or `parametersJsonSchema` as sent), `functionCallingConfig`,
//! `maxOutputTokens`, `temperature`, `topP`, `topK`, `stopSequences`, JSON
//! mode (`responseMimeType` with `responseSchema` / `responseJsonSchema`,
//! as an instruction at the end of the system prompt and the hub's
//! `output_config.format`, as the Chat front does) and `thinkingConfig`.
//! Refused with a message: `cachedContent`, `candidateCount` > 1, media
//! other than images, files uploaded to Google, code execution parts and
//! Google's own tools (search, code execution, URL context…). Dropped:
//! thought parts of earlier turns, thought signatures, `safetySettings`,
//! `seed`, penalties, logprobs and other settings.

mod chunks;
mod contents;
mod request;
mod response;
mod wire;

pub use chunks::{GeminiChunks, GeminiFraming};
pub use response::{
    error_body, finish_reason, generate_content_response, usage_metadata, GeminiMeta,
};
pub use wire::{
    Blob, Content, CountTokensRequest, FileData, FunctionCall, FunctionCallingConfig,
    FunctionDeclaration, FunctionResponse, GenerateContentRequest, GenerationConfig, Part,
    ThinkingConfig, Tool, ToolConfig,
};

#[cfg(test)]
mod tests;

//! What every translator from Anthropic Messages to a provider API offers,
//! and what a client API other than Anthropic Messages offers to write a
//! stream of Anthropic events in its own format.
//!
//! Anthropic Messages is the hub: every request that is translated at all
//! passes through a [`MessagesRequest`], and every translated answer through
//! a [`MessagesResponse`] or [`StreamEvent`]s.

use bytes::{Bytes, BytesMut};
use serde_json::Value;

use crate::anthropic::{MessagesRequest, MessagesResponse, StreamEvent};

/// Why a translation failed. The message is shown to the client as an
/// `invalid_request_error` (request side) or `api_error` (response side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError(pub String);

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranslateError {}

/// The provider request a Messages request becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRequest {
    /// Path below the provider's base URL, starting with `/`
    /// (`/chat/completions`, `/v1beta/models/gemini-2.5-flash:streamGenerateContent`).
    pub path: String,
    /// Query string without `?` (`alt=sse`), if any.
    pub query: Option<String>,
    pub body: Value,
}

/// A stream translator: provider bytes in (any split), Anthropic events out.
pub trait StreamTranslate: Send {
    /// Feeds one chunk of the provider's response body.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>);
    /// The provider's body ended. `error` is `Some` when it broke off (a
    /// connection error or timeout); then, or if the provider ended without
    /// its normal final event, the output closes open blocks and ends with an
    /// `error` event. Otherwise it ends with `message_delta` + `message_stop`.
    fn finish(&mut self, error: Option<&str>, out: &mut Vec<StreamEvent>);
    /// Whether `message_start` has been emitted (pings may follow it).
    fn started(&self) -> bool;
}

/// Anthropic events out to a client that speaks another API (OpenAI Chat
/// Completions…): a state machine fed the events a [`StreamTranslate`] made.
pub trait StreamEncode: Send {
    /// Appends the client's bytes for `events` to `out`.
    fn encode(&mut self, events: &[StreamEvent], out: &mut BytesMut);
    /// What keeps a silent stream alive without changing what the client reads.
    fn ping(&self) -> Bytes;
}

/// Anthropic Messages ⇄ one provider API.
pub trait Translator: Send + Sync {
    /// The provider request for `request`, with `model` the provider's model name.
    fn request(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<ProviderRequest, TranslateError>;
    /// A whole provider response as an Anthropic message. `id` is the `msg_…` id to use.
    fn response(
        &self,
        body: &[u8],
        model: &str,
        id: &str,
    ) -> Result<MessagesResponse, TranslateError>;
    /// A translator for a streamed response.
    fn stream(&self, model: &str, id: &str) -> Box<dyn StreamTranslate>;
}

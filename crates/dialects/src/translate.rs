//! What every translator from Anthropic Messages to a provider API offers,
//! and what a client API other than Anthropic Messages offers to write a
//! stream of Anthropic events in its own format.
//!
//! Anthropic Messages is the hub: every request that is translated at all
//! passes through a [`MessagesRequest`], and every translated answer through
//! a [`MessagesResponse`] or [`StreamEvent`]s.

use bytes::{Bytes, BytesMut};
use serde_json::Value;

use crate::anthropic::view::RequestView;
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

/// A provider request as it goes on the wire: its body written as bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// As [`ProviderRequest::path`].
    pub path: String,
    /// As [`ProviderRequest::query`].
    pub query: Option<String>,
    /// The JSON body.
    pub body: Vec<u8>,
}

impl WireRequest {
    /// With the body as a JSON value.
    pub fn into_value(self) -> Result<ProviderRequest, TranslateError> {
        Ok(ProviderRequest {
            path: self.path,
            query: self.query,
            body: serde_json::from_slice(&self.body)
                .map_err(|e| TranslateError(format!("translated body is not JSON: {e}")))?,
        })
    }
}

/// A hub request as Messages JSON.
pub(crate) fn hub_json(request: &MessagesRequest) -> Result<Vec<u8>, TranslateError> {
    serde_json::to_vec(request).map_err(|e| TranslateError(e.to_string()))
}

/// Messages JSON read in place, or the error a client gets for it.
pub(crate) fn view(body: &[u8]) -> Result<RequestView<'_>, TranslateError> {
    RequestView::parse(body).map_err(invalid_messages)
}

fn invalid_messages(error: serde_json::Error) -> TranslateError {
    TranslateError(format!(
        "request body is not a valid Messages request: {error}"
    ))
}

/// [`Translator::request`] for a translator that writes its bodies from
/// Messages JSON: the hub request written as that JSON first.
pub(crate) fn via_bytes(
    translator: &dyn Translator,
    request: &MessagesRequest,
    model: &str,
) -> Result<ProviderRequest, TranslateError> {
    translator
        .request_bytes(&hub_json(request)?, model)?
        .into_value()
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
    /// The provider request for a hub request given as Messages JSON (a
    /// Messages client's own bytes), as it goes on the wire. Translators
    /// that can read the JSON in place (OpenAI Chat, Gemini) borrow from
    /// `body` and write the provider's body in one pass; others read the
    /// owned [`MessagesRequest`] and go through [`Translator::request`].
    fn request_bytes(&self, body: &[u8], model: &str) -> Result<WireRequest, TranslateError> {
        let request: MessagesRequest = serde_json::from_slice(body).map_err(invalid_messages)?;
        self.request_wire(&request, model)
    }
    /// [`Translator::request`] as it goes on the wire.
    fn request_wire(
        &self,
        request: &MessagesRequest,
        model: &str,
    ) -> Result<WireRequest, TranslateError> {
        let translated = self.request(request, model)?;
        Ok(WireRequest {
            body: serde_json::to_vec(&translated.body)
                .map_err(|e| TranslateError(e.to_string()))?,
            path: translated.path,
            query: translated.query,
        })
    }
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

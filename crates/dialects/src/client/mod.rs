//! The client APIs keyrelay serves, each described once: how its request
//! becomes the hub request (model, stream flag, session hint), how a whole
//! hub answer and the hub's stream events are written back in it, its error
//! shape, where it reports usage, and which provider dialects serve it
//! natively (they get the client's bytes untranslated).
//!
//! A gateway front is generic over [`ClientApi`]: it reads the [`Head`],
//! routes the model, and for each target either forwards the client's bytes
//! (native) or sends the [`Hub`] request through the provider's translator
//! and renders the answer with the hub's [`Render`].

mod chat;
mod embeddings;
mod gemini;
mod hub;
mod messages;
mod responses;
pub mod scan;
#[cfg(test)]
mod tests;

use bytes::{Bytes, BytesMut};
use serde_json::Value;

use crate::anthropic::{MessagesRequest, MessagesResponse};
use crate::embed::EmbedRequest;
use crate::{Dialect, StreamEncode};
pub use chat::CHAT;
pub use embeddings::EMBEDDINGS;
pub use gemini::{is_gemini, key_param, percent_decode, ModelPath, GEMINI};
pub use hub::{HubRequest, MessagesJson};
pub use messages::MESSAGES;
pub use responses::RESPONSES;

/// A client's request as it arrived: what a description reads.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The request path (`/v1/messages`, `/v1beta/models/m:generateContent`).
    pub path: &'a str,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// What a client request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// An answer, whole or streamed.
    Generate,
    /// The input tokens a request would take.
    CountTokens,
    /// Vectors for its inputs (a whole answer, never a stream).
    Embed,
}

/// What routing and the key pool read of a request, without building the
/// rest of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The model as the client named it.
    pub model: String,
    pub operation: Operation,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// A session the body names (Messages' `metadata.user_id`, Responses'
    /// `prompt_cache_key`); a session header wins over it.
    pub session: Option<String>,
}

/// A request a description cannot take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The request is malformed or asks for what cannot be served (400).
    Invalid(String),
    /// The path names nothing this API serves (404).
    NoRoute(String),
}

impl ClientError {
    pub fn message(&self) -> &str {
        match self {
            ClientError::Invalid(message) | ClientError::NoRoute(message) => message,
        }
    }
}

impl From<crate::TranslateError> for ClientError {
    fn from(error: crate::TranslateError) -> Self {
        ClientError::Invalid(error.0)
    }
}

/// A client request as the hub request, with what its answer needs.
pub struct Hub {
    pub request: HubRequest,
    pub render: Box<dyn Render>,
    /// Fields of the client's request the hub cannot carry, dropped.
    pub dropped: Vec<String>,
}

/// What names a translated answer: ids derive from the hub message id.
#[derive(Debug, Clone, Copy)]
pub struct AnswerMeta<'a> {
    /// The hub message id (`msg_…`).
    pub id: &'a str,
    /// The model as the client named it.
    pub model: &'a str,
    /// Unix seconds, for APIs that stamp their answers.
    pub created: u64,
}

impl AnswerMeta<'_> {
    /// The message id's tail after `msg_`, for ids of other APIs.
    pub fn id_tail(&self) -> &str {
        self.id.strip_prefix("msg_").unwrap_or(self.id)
    }
}

/// How a hub answer is written in the client's API.
pub trait Render: Send + Sync {
    /// A whole answer, as the JSON document the client reads.
    fn whole(&self, message: &MessagesResponse, meta: &AnswerMeta<'_>) -> Vec<u8>;
    /// The writer of hub stream events in the client's stream format.
    fn stream(&self, meta: &AnswerMeta<'_>) -> Box<dyn StreamEncode>;
    /// The stream's `Content-Type`.
    fn stream_content_type(&self) -> &'static str {
        "text/event-stream; charset=utf-8"
    }
}

/// The fields of a usage object, in one client API's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageFields {
    /// The key of the usage object (`usage`, `usageMetadata`).
    pub object: &'static str,
    pub input: &'static str,
    pub output: &'static str,
    /// Input tokens read from the provider's prompt cache, where reported.
    pub cache_read: Option<&'static str>,
    /// Input tokens written to the prompt cache, where reported.
    pub cache_write: Option<&'static str>,
}

/// One client API, described once.
pub trait ClientApi: Sync {
    /// Its name in logs and metrics (`messages`, `chat`, `responses`, `gemini`).
    fn name(&self) -> &'static str;
    /// Whose error body and stream error frame its clients read.
    fn error_shape(&self) -> Dialect;
    /// Whether a provider of `dialect` takes this API's requests as they
    /// are; `serves_responses`: the provider serves the Responses API.
    fn native_for(&self, dialect: Dialect, serves_responses: bool) -> bool;
    /// Model, operation, stream flag and session hint.
    fn head(&self, request: &ClientRequest<'_>) -> Result<Head, ClientError>;
    /// The path below a native provider's base URL, for the routed `model`.
    fn native_path(&self, request: &ClientRequest<'_>, head: &Head, model: &str) -> String;
    /// Whether the model is named in the body (routing rewrites it there) or
    /// in the path.
    fn model_in_body(&self) -> bool {
        true
    }
    /// The request as the hub request, for a provider of another dialect.
    fn to_hub(&self, request: &ClientRequest<'_>, head: &Head) -> Result<Hub, ClientError>;
    /// [`ClientApi::to_hub`] for a caller that holds the body (`request.body`)
    /// as shared `body`: an API whose hub request is its own body keeps it
    /// without a copy.
    fn to_hub_shared(
        &self,
        request: &ClientRequest<'_>,
        body: &Bytes,
        head: &Head,
    ) -> Result<Hub, ClientError> {
        let _ = body;
        self.to_hub(request, head)
    }
    /// Whether [`ClientApi::native_prefill`] can continue an answer, and a
    /// provider's stream of this API can be read into hub events as it is
    /// forwarded (the OpenAI Responses API: neither).
    fn continues_natively(&self) -> bool {
        false
    }
    /// The client's own body with `text` as the start of the assistant's
    /// answer, for a native provider that continues it as `prefill` says
    /// (see [`crate::prefill`]); an error where this API has no such turn.
    fn native_prefill(
        &self,
        body: &[u8],
        text: &str,
        prefill: crate::Prefill,
    ) -> Result<Vec<u8>, ClientError> {
        let _ = (body, text, prefill);
        Err(ClientError::Invalid(format!(
            "the {} API has no assistant turn to continue",
            self.name()
        )))
    }
    /// A token-count request as the hub request whose input is counted.
    fn count_to_hub(
        &self,
        request: &ClientRequest<'_>,
        head: &Head,
    ) -> Result<MessagesRequest, ClientError> {
        let _ = (request, head);
        Err(ClientError::NoRoute(format!(
            "the {} API has no token count",
            self.name()
        )))
    }
    /// An embeddings request ([`Operation::Embed`]), read.
    fn embed_request(&self, request: &ClientRequest<'_>) -> Result<EmbedRequest, ClientError> {
        let _ = request;
        Err(ClientError::NoRoute(format!(
            "the {} API has no embeddings",
            self.name()
        )))
    }
    /// A token count, in this API's shape.
    fn count_body(&self, tokens: u64) -> Value {
        serde_json::json!({ "input_tokens": tokens })
    }
    /// Where its answers report usage.
    fn usage(&self) -> UsageFields;
    /// An error document in this API's shape.
    fn error_body(&self, status: u16, kind: crate::anthropic::ErrorKind, message: &str) -> Value {
        self.error_shape().error_body(status, kind, message)
    }
}

/// The head of a JSON body that names its model at the top level: `model`,
/// `stream`, and the two fields a session may hide in, found by one scan
/// that checks the whole body ([`scan`]) without building a document.
pub(crate) struct BodyHead {
    pub model: String,
    pub stream: bool,
    /// `metadata.user_id`.
    pub user_id: Option<String>,
    pub prompt_cache_key: Option<String>,
}

pub(crate) fn body_head(body: &[u8]) -> Result<BodyHead, ClientError> {
    let [model, stream, metadata, prompt_cache_key] =
        scan::object_fields(body, ["model", "stream", "metadata", "prompt_cache_key"]).map_err(
            |error| scan_error(&error, &["model", "stream", "metadata", "prompt_cache_key"]),
        )?;
    let value = |range: Option<std::ops::Range<usize>>| -> Result<Option<Value>, ClientError> {
        match range.map(|r| &body[r]) {
            // `null` is as good as absent, as serde reads an `Option`.
            None | Some(b"null") => Ok(None),
            Some(bytes) => serde_json::from_slice(bytes).map(Some).map_err(|e| {
                ClientError::Invalid(format!("request body is not a valid JSON object: {e}"))
            }),
        }
    };
    let model = match value(model)? {
        Some(Value::String(model)) => bounded_model(model)?,
        Some(_) => return Err(ClientError::Invalid("model: must be a string".into())),
        None => return Err(ClientError::Invalid("model: field required".into())),
    };
    let stream = stream.is_some_and(|r| &body[r] == b"true");
    // A `Value`, so an odd `metadata` is the provider's to judge.
    let metadata = value(metadata)?;
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    Ok(BodyHead {
        model,
        stream,
        user_id: text(metadata.as_ref().and_then(|m| m.get("user_id"))),
        prompt_cache_key: text(value(prompt_cache_key)?.as_ref()),
    })
}

/// A body [`scan`] refused, as the client is told.
pub fn scan_error(error: &scan::ScanError, names: &[&str]) -> ClientError {
    use scan::ScanError;
    ClientError::Invalid(match error {
        ScanError::NotUtf8 { at } => {
            format!("request body is not UTF-8, which JSON must be (a bad byte at offset {at})")
        }
        ScanError::TooDeep => format!(
            "request body nests arrays and objects more than {} deep",
            scan::MAX_DEPTH
        ),
        ScanError::NotObject => "request body is not a valid JSON object".into(),
        ScanError::Syntax { what, at } => {
            format!("request body is not a valid JSON object: {what} at byte {at}")
        }
        ScanError::Duplicate(i) => format!(
            "request body is not a valid JSON object: duplicate field `{}`",
            names.get(*i).copied().unwrap_or("?")
        ),
    })
}

/// The longest model name keyrelay takes, in bytes: a model is echoed in a
/// header and kept in logs and the request log, so it is bounded before
/// anything reads it.
pub const MAX_MODEL_LEN: usize = 256;

/// `model`, unless it is longer than [`MAX_MODEL_LEN`] (the error does not
/// echo it).
pub fn bounded_model(model: String) -> Result<String, ClientError> {
    if model.len() > MAX_MODEL_LEN {
        return Err(ClientError::Invalid(format!(
            "model: {} bytes, longer than keyrelay's limit of {MAX_MODEL_LEN}",
            model.len()
        )));
    }
    Ok(model)
}

/// A longer session name is not a session id; it is ignored.
pub const MAX_SESSION_LEN: usize = 200;

/// Whether `value` can name a session.
pub fn usable_session(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_SESSION_LEN
}

/// `body` (a JSON object) with `text` added to the start of the
/// assistant's answer in its list `field`, by `push`.
pub(crate) fn prefilled_body(
    body: &[u8],
    field: &str,
    push: impl FnOnce(&mut Vec<Value>),
) -> Result<Vec<u8>, ClientError> {
    let mut document: Value = parse(body, "JSON")?;
    match document.get_mut(field).and_then(Value::as_array_mut) {
        Some(list) => push(list),
        None => {
            return Err(ClientError::Invalid(format!(
                "{field}: a list is required to continue an answer"
            )))
        }
    }
    serde_json::to_vec(&document).map_err(|e| ClientError::Invalid(e.to_string()))
}

/// Parses a client body as `T`, naming the API in the error.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| {
        ClientError::Invalid(format!("request body is not a valid {what} request: {e}"))
    })
}

/// Hub events written as Anthropic Messages server-sent events: the stream
/// writer of the hub's own API.
#[derive(Debug, Default)]
pub struct MessagesEvents;

impl StreamEncode for MessagesEvents {
    fn encode(&mut self, events: &[crate::anthropic::StreamEvent], out: &mut BytesMut) {
        for event in events {
            out.extend_from_slice(&event.to_sse());
        }
    }

    fn ping(&self) -> Bytes {
        crate::anthropic::StreamEvent::Ping.to_sse()
    }
}

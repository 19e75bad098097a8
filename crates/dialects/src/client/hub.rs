//! The hub request a client request becomes: built by the description of
//! a client API other than Messages, or a Messages client's own JSON, kept
//! as it came so that a translator reads it in place.

use std::sync::OnceLock;

use bytes::Bytes;

use super::{ClientError, Head};
use crate::anthropic::MessagesRequest;
use crate::translate::{TranslateError, Translator, WireRequest};

/// A hub request.
#[derive(Debug)]
pub enum HubRequest {
    /// Built from another client API's request.
    Built(MessagesRequest),
    /// A Messages client's own request body.
    Json(MessagesJson),
}

/// A Messages client's request body, read only as far as each use needs.
#[derive(Debug)]
pub struct MessagesJson {
    body: Bytes,
    model: String,
    stream: bool,
    /// The owned request, for the uses that change it (a continuation's
    /// prefill), read once when first asked for.
    owned: OnceLock<Result<MessagesRequest, ClientError>>,
}

impl HubRequest {
    /// A Messages client's `body`, whose model and stream flag `head` read.
    pub fn messages_json(body: Bytes, head: &Head) -> Self {
        HubRequest::Json(MessagesJson {
            body,
            model: head.model.clone(),
            stream: head.stream,
            owned: OnceLock::new(),
        })
    }

    /// The model as the client named it.
    pub fn model(&self) -> &str {
        match self {
            HubRequest::Built(request) => &request.model,
            HubRequest::Json(json) => &json.model,
        }
    }

    pub fn is_stream(&self) -> bool {
        match self {
            HubRequest::Built(request) => request.is_stream(),
            HubRequest::Json(json) => json.stream,
        }
    }

    /// The request as owned values; an error when a Messages client's body
    /// is not a valid request.
    pub fn owned(&self) -> Result<&MessagesRequest, ClientError> {
        match self {
            HubRequest::Built(request) => Ok(request),
            HubRequest::Json(json) => json
                .owned
                .get_or_init(|| super::parse(&json.body, "Messages"))
                .as_ref()
                .map_err(Clone::clone),
        }
    }

    /// The request for a provider of `translator`'s dialect, as its bytes;
    /// a Messages client's body is read in place.
    pub fn translate(
        &self,
        translator: &dyn Translator,
        model: &str,
    ) -> Result<WireRequest, TranslateError> {
        match self {
            HubRequest::Built(request) => translator.request_wire(request, model),
            HubRequest::Json(json) => translator.request_bytes(&json.body, model),
        }
    }
}

impl From<MessagesRequest> for HubRequest {
    fn from(request: MessagesRequest) -> Self {
        HubRequest::Built(request)
    }
}

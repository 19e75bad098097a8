//! Requests that reach their provider through the hub: `/v1/messages` for
//! providers that speak another API, `/v1/chat/completions` for providers
//! that do not speak Chat Completions, `/v1/responses` for providers
//! without a Responses API, and Gemini's `generateContent` for providers
//! that are not Gemini. Translate the hub request, call, and
//! translate the answer back — whole or streamed — in the client's API
//! ([`ClientApi`]), with upstream errors in the client's error shape.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::{MessagesRequest, MessagesResponse};
use dialects::gemini::inbound::{
    generate_content_response, GeminiChunks, GeminiFraming, GeminiMeta,
};
use dialects::openai::inbound::{completion, ChatChunks, ChatMeta};
use dialects::openai::responses_in::{
    response_object, RequestEcho, ResponsesEvents, ResponsesMeta,
};
use dialects::{ProviderRequest, StreamTranslate, Translator};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use keypool::{Fingerprint, OutcomeClass};

use super::error::{ApiError, ErrorKind};
use super::exhausted::retry_after_header;
use super::fallback::Leg;
use super::render::status_of;
use super::Gateway;
use crate::call::{RequestFacts, Step, UpstreamBody, UpstreamResponse};
use crate::dialect::Dialect;
use crate::registry::Provider;
use crate::transport::Outbound;

/// A fresh Anthropic-style message id.
pub fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("msg_{tail}")
}

/// The API the client speaks: how a translated answer is written for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientApi {
    /// Anthropic Messages: the hub's own form.
    Anthropic,
    /// OpenAI Chat Completions; `include_usage` asks a stream for its usage chunk.
    OpenaiChat { include_usage: bool },
    /// Gemini `generateContent`; a stream in `framing`, thought parts only
    /// when `include_thoughts` (`thinkingConfig.includeThoughts`).
    Gemini {
        framing: GeminiFraming,
        include_thoughts: bool,
    },
    /// OpenAI Responses; what its answers echo of the request comes with
    /// the leg ([`TranslatedLeg::for_responses`]).
    Responses,
}

impl ClientApi {
    /// Whose error shape the client reads.
    pub fn shape(self) -> Dialect {
        match self {
            ClientApi::Anthropic => Dialect::Anthropic,
            ClientApi::OpenaiChat { .. } | ClientApi::Responses => Dialect::OpenaiChat,
            ClientApi::Gemini { .. } => Dialect::Gemini,
        }
    }
}

/// A hub request translated for a provider of another dialect.
pub struct TranslatedLeg<'a> {
    pub provider: Arc<Provider>,
    /// The upstream model, and the client's session.
    pub facts: RequestFacts,
    pub translator: &'static dyn Translator,
    /// The hub request, for the answer's model name and stream flag.
    pub request: &'a MessagesRequest,
    pub outbound: Outbound,
    pub client: ClientApi,
    /// For a Responses client: the request's fields its answer repeats.
    pub echo: Option<Arc<RequestEcho>>,
}

impl<'a> TranslatedLeg<'a> {
    /// Translates `request` for `provider`; a request the translator
    /// rejects is the client's error.
    pub fn new(
        provider: Arc<Provider>,
        translator: &'static dyn Translator,
        request: &'a MessagesRequest,
        facts: RequestFacts,
    ) -> Result<Self, ApiError> {
        let model = facts.model.as_deref().unwrap_or(&request.model);
        let outbound = translator
            .request(request, model)
            .map_err(|err| err.to_string())
            .and_then(|translated| provider_call(&provider, &translated))
            .map_err(ApiError::invalid)?;
        Ok(TranslatedLeg {
            provider,
            facts,
            translator,
            request,
            outbound,
            client: ClientApi::Anthropic,
            echo: None,
        })
    }

    /// The answer goes to a client of `client`'s API.
    pub fn for_client(mut self, client: ClientApi) -> Self {
        self.client = client;
        self
    }

    /// The answer goes to a Responses client, with what it echoes of its request.
    pub fn for_responses(mut self, echo: Arc<RequestEcho>) -> Self {
        self.client = ClientApi::Responses;
        self.echo = Some(echo);
        self
    }

    /// The stream step from the provider's events to the client's.
    fn step(&self, events: Box<dyn StreamTranslate>, id: &str) -> Step {
        match self.client {
            ClientApi::Anthropic => Step::Translate(events),
            ClientApi::OpenaiChat { include_usage } => Step::TranslateInto {
                translator: events,
                client: Box::new(ChatChunks::new(self.chat_meta(id), include_usage)),
            },
            ClientApi::Gemini { framing, .. } => Step::TranslateInto {
                translator: events,
                client: Box::new(GeminiChunks::new(self.gemini_meta(id), framing)),
            },
            ClientApi::Responses => Step::TranslateInto {
                translator: events,
                client: Box::new(ResponsesEvents::new(self.responses_meta(id))),
            },
        }
    }

    /// A whole answer in the client's API.
    fn whole(&self, message: MessagesResponse, id: &str) -> Response {
        match self.client {
            ClientApi::Anthropic => axum::Json(message).into_response(),
            ClientApi::OpenaiChat { .. } => {
                axum::Json(completion(&message, &self.chat_meta(id))).into_response()
            }
            ClientApi::Responses => {
                axum::Json(response_object(&message, &self.responses_meta(id))).into_response()
            }
            ClientApi::Gemini { .. } => {
                axum::Json(generate_content_response(&message, &self.gemini_meta(id)))
                    .into_response()
            }
        }
    }

    /// A Gemini answer's model (the client's) and response id (the message id's tail).
    fn gemini_meta(&self, id: &str) -> GeminiMeta {
        GeminiMeta {
            model: self.request.model.clone(),
            response_id: id.strip_prefix("msg_").unwrap_or(id).to_owned(),
            include_thoughts: matches!(
                self.client,
                ClientApi::Gemini {
                    include_thoughts: true,
                    ..
                }
            ),
        }
    }

    /// A Chat answer's id (`chatcmpl-` and the message id's tail), model and time.
    fn chat_meta(&self, id: &str) -> ChatMeta {
        let created = unix_seconds();
        ChatMeta {
            id: format!("chatcmpl-{}", id.strip_prefix("msg_").unwrap_or(id)),
            model: self.request.model.clone(),
            created,
        }
    }

    /// A Responses answer's id (`resp_` and the message id's tail), model,
    /// time and echo.
    fn responses_meta(&self, id: &str) -> ResponsesMeta {
        ResponsesMeta {
            id: format!("resp_{}", id.strip_prefix("msg_").unwrap_or(id)),
            model: self.request.model.clone(),
            created_at: unix_seconds(),
            echo: self.echo.clone().unwrap_or_default(),
        }
    }
}

impl Leg for TranslatedLeg<'_> {
    fn provider(&self) -> &Arc<Provider> {
        &self.provider
    }

    fn facts(&self) -> &RequestFacts {
        &self.facts
    }

    fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    fn answer(
        self,
        gateway: &Gateway,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        class: OutcomeClass,
    ) -> Response {
        let provider = &self.provider;
        let shape = self.client.shape();
        // An error no other key or target would fix: an error status, or an error inside a 200.
        if !upstream.status.is_success() || class != OutcomeClass::Success {
            return upstream_error(provider.spec.dialect, &upstream, class)
                .in_shape(shape)
                .into_response();
        }
        let (id, model) = (message_id(), self.request.model.as_str());
        match upstream.body {
            UpstreamBody::Stream(held) if self.request.is_stream() => {
                let step = self.step(self.translator.stream(model, &id), &id);
                let stream = gateway.caller.stream(provider, key, held, step);
                let mut response = Response::new(Body::from_stream(stream));
                let headers = response.headers_mut();
                // Gemini without `alt=sse` streams one JSON array.
                let content_type = match self.client {
                    ClientApi::Gemini {
                        framing: GeminiFraming::JsonArray,
                        ..
                    } => "application/json; charset=utf-8",
                    _ => "text/event-stream; charset=utf-8",
                };
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type),
                );
                headers.insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
                response
            }
            UpstreamBody::Full(body) => match self.translator.response(&body, model, &id) {
                Ok(message) => self.whole(message, &id),
                Err(err) => bad_gateway(format!(
                    "keyrelay could not translate the {} response: {err}",
                    provider.name()
                ), shape),
            },
            UpstreamBody::Stream(_) => bad_gateway(format!(
                "the {} answer was not a whole document keyrelay can translate (a stream, or larger than limits.max_response_bytes)",
                provider.name()
            ), shape),
        }
    }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn bad_gateway(message: String, shape: Dialect) -> Response {
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, message)
        .in_shape(shape)
        .into_response()
}

/// A translated request as an upstream call: a JSON POST below the
/// provider's base URL, with its auth and dialect.
pub fn provider_call(provider: &Provider, request: &ProviderRequest) -> Result<Outbound, String> {
    let body = serde_json::to_vec(&request.body).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(Outbound {
        method: Method::POST,
        url: provider
            .endpoint(&request.path, request.query.as_deref())
            .map_err(|e| e.to_string())?,
        headers,
        body: Bytes::from(body),
        auth: provider.spec.auth.clone(),
        dialect: provider.spec.dialect,
    })
}

/// An upstream error as keyrelay's own: same status (for an error inside
/// a 200, the status its class stands for), the type that status means, the
/// provider's own (already redacted) message, `retry-after` kept.
fn upstream_error(dialect: Dialect, upstream: &UpstreamResponse, class: OutcomeClass) -> ApiError {
    let body = match &upstream.body {
        UpstreamBody::Full(bytes) => bytes.as_ref(),
        UpstreamBody::Stream(_) => &[],
    };
    let message = dialect
        .error_message(body)
        .unwrap_or_else(|| format!("upstream answered HTTP {}", upstream.status.as_u16()));
    let status = if upstream.status.is_success() {
        status_of(class)
    } else {
        upstream.status
    };
    let mut error = ApiError::new(status, ErrorKind::for_status(status.as_u16()), message);
    error.retry_after = retry_after_header(upstream);
    error
}

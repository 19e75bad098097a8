//! Requests that reach their provider through the hub: `/v1/messages` for
//! providers that speak another API, `/v1/chat/completions` for providers
//! that do not speak Chat Completions, `/v1/responses` for providers
//! without a Responses API, and Gemini's `generateContent` for providers
//! that are not Gemini. Translate the hub request, call, and
//! translate the answer back — whole or streamed — in the client's API
//! (the [`Hub`]'s render), with upstream errors in the client's error shape.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::StreamEvent;
use dialects::client::{AnswerMeta, Hub, HubRequest};
use dialects::{ProviderRequest, StreamEncode, Translator, WireRequest};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use keypool::{Fingerprint, OutcomeClass};

use crate::call::exhausted::retry_after_header;
pub use crate::call::message_id;
use crate::call::trail::status_of;
use crate::call::{
    Caller, Continuation, Leg, RequestFacts, Step, Target, UpstreamBody, UpstreamResponse,
};
use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};
use crate::registry::Provider;
use crate::team::usage::Reported;
use crate::team::Usage;
use crate::transport::headers::add_configured_headers;
use crate::transport::Outbound;

/// A hub request translated for a provider of another dialect.
pub struct TranslatedLeg<'a> {
    /// The provider, the upstream model and the client's session, and the
    /// translated request.
    pub target: Target,
    pub translator: &'static dyn Translator,
    /// The hub request (its model is the client's, its stream flag the
    /// client's), and how its answer is written for the client.
    pub hub: &'a Hub,
    /// Whose error shape the client reads.
    pub shape: Dialect,
    /// How a stream that breaks is asked for the rest, when it may be.
    pub continuation: Option<Continuation>,
}

impl<'a> TranslatedLeg<'a> {
    /// Translates `hub`'s request for `provider`; a request the translator
    /// rejects is the client's error.
    pub fn new(
        provider: Arc<Provider>,
        hub: &'a Hub,
        facts: RequestFacts,
        shape: Dialect,
    ) -> Result<Self, ApiError> {
        let model = facts.model.as_deref().unwrap_or(hub.request.model());
        let outbound = translated_call(&provider, &hub.request, model);
        Self::with_outbound(provider, hub, facts, shape, outbound)
    }

    /// The leg for `hub`'s request translated already (`outbound`, made
    /// by [`translated_call`] for this provider and `facts`' model).
    pub fn with_outbound(
        provider: Arc<Provider>,
        hub: &'a Hub,
        facts: RequestFacts,
        shape: Dialect,
        outbound: Result<Outbound, String>,
    ) -> Result<Self, ApiError> {
        let translator = provider.spec.dialect.hub_translator();
        let outbound = outbound.map_err(ApiError::invalid)?;
        Ok(TranslatedLeg {
            target: Target {
                provider,
                facts,
                outbound,
            },
            translator,
            hub,
            shape,
            continuation: None,
        })
    }

    /// A stream that breaks may be asked for the rest by `continuation`.
    pub fn with_continuation(mut self, continuation: Option<Continuation>) -> Self {
        self.continuation = continuation;
        self
    }

    /// With the client's headers that the provider's `forward_headers`
    /// names (a translated request carries no other client header).
    pub fn with_client_headers(mut self, client: &HeaderMap) -> Self {
        let provider = &self.target.provider;
        add_configured_headers(
            &mut self.target.outbound.headers,
            client,
            &provider.spec.forward_headers,
        );
        self
    }

    /// What names the answer: the message id, the client's model, the time.
    fn meta<'m>(&'m self, id: &'m str) -> AnswerMeta<'m> {
        let created = self
            .target
            .provider
            .pool
            .clock()
            .wall()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        AnswerMeta {
            id,
            model: self.hub.request.model(),
            created,
        }
    }
}

impl Leg for TranslatedLeg<'_> {
    fn target(&self) -> &Target {
        &self.target
    }

    fn answer(
        self,
        caller: &Caller,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        class: OutcomeClass,
    ) -> Response {
        let provider = &self.target.provider;
        let shape = self.shape;
        // An error no other key or target would fix: an error status, or an error inside a 200.
        if !upstream.status.is_success() || class != OutcomeClass::Success {
            return upstream_error(provider.spec.dialect, &upstream, class)
                .in_shape(shape)
                .into_response();
        }
        let (id, model) = (message_id(), self.hub.request.model());
        let render = &self.hub.render;
        match upstream.body {
            UpstreamBody::Stream(held) if self.hub.request.is_stream() => {
                let reported = Reported::default();
                let step = Step::Translate {
                    translator: self.translator.stream(model, &id),
                    client: Box::new(UsageTap {
                        client: render.stream(&self.meta(&id)),
                        reported: reported.clone(),
                    }),
                };
                let (stream, report) = caller.stream(provider, key, held, step, self.continuation);
                let mut response = Response::new(Body::from_stream(stream));
                response.extensions_mut().insert(report);
                response.extensions_mut().insert(reported);
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(render.stream_content_type()),
                );
                headers.insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
                response
            }
            UpstreamBody::Full(body) => match self.translator.response(&body, model, &id) {
                Ok(message) => {
                    let mut response = json_response(render.whole(&message, &self.meta(&id)));
                    let usage = Usage::of_hub(&message.usage);
                    response.extensions_mut().insert(Reported::of(usage));
                    response
                }
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

/// The client's stream writer, noting the usage hub events report on their
/// way (the hub keeps cache reads and writes apart, which the client's own
/// shape may not).
struct UsageTap {
    client: Box<dyn StreamEncode>,
    reported: Reported,
}

impl StreamEncode for UsageTap {
    fn encode(&mut self, events: &[StreamEvent], out: &mut bytes::BytesMut) {
        for event in events {
            match event {
                StreamEvent::MessageStart { message } => {
                    self.reported.saw(Usage::of_hub(&message.usage));
                }
                StreamEvent::MessageDelta { usage, .. } => self.reported.saw(Usage::of_hub(usage)),
                _ => {}
            }
        }
        self.client.encode(events, out);
    }

    fn ping(&self) -> Bytes {
        self.client.ping()
    }
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn bad_gateway(message: String, shape: Dialect) -> Response {
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, message)
        .in_shape(shape)
        .into_response()
}

/// `request` (a hub request) translated for `provider`, whose model is
/// `model`, as an upstream call.
pub fn translated_call(
    provider: &Provider,
    request: &HubRequest,
    model: &str,
) -> Result<Outbound, String> {
    let translated = request
        .translate(provider.spec.dialect.hub_translator(), model)
        .map_err(|err| err.to_string())?;
    wire_call(provider, translated)
}

/// A translated request as an upstream call: a JSON POST below the
/// provider's base URL, with its auth and dialect.
pub fn provider_call(provider: &Provider, request: &ProviderRequest) -> Result<Outbound, String> {
    let body = serde_json::to_vec(&request.body).map_err(|e| e.to_string())?;
    wire_call(
        provider,
        WireRequest {
            path: request.path.clone(),
            query: request.query.clone(),
            body,
        },
    )
}

/// A request written for the wire as an upstream call.
fn wire_call(provider: &Provider, request: WireRequest) -> Result<Outbound, String> {
    let body = request.body;
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
pub(super) fn upstream_error(
    dialect: Dialect,
    upstream: &UpstreamResponse,
    class: OutcomeClass,
) -> ApiError {
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

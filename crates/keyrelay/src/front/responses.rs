//! `POST /v1/responses` (the OpenAI Responses API: Codex CLI, the openai
//! SDKs' `responses.create`): routed like `/v1/messages` — the same model
//! strings, pools, session affinity and fallback chains — and answered in
//! OpenAI's shapes, keyrelay's own errors included.
//!
//! - A provider that serves the Responses API (`responses = true`; the
//!   built-in openai) gets the client's bytes at `{base_url}/responses`,
//!   only the `model` value replaced when routing changed it, and its
//!   answer goes back as is, whole or streamed.
//! - Any other provider gets the request through the hub: Responses →
//!   Anthropic Messages → the provider's own API, and its answer comes back
//!   as a `response` object or the Responses event stream. What the hub
//!   cannot carry is dropped and logged at debug level; stored state
//!   (`previous_response_id`, `conversation`, `background`, stored prompts)
//!   is refused with a 400, since keyrelay stores no responses.
//!
//! The session is the client's session header (Codex sends `session_id`),
//! else the request's `prompt_cache_key`.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::MessagesRequest;
use dialects::openai::responses_in::{RequestEcho, ResponsesRequest};
use http::{HeaderMap, Method, StatusCode, Uri};

use super::error::{ApiError, ErrorKind};
use super::fallback::{serve, RoutedLeg};
use super::forward::ForwardLeg;
use super::messages::request_head;
use super::model_field::routed_body;
use super::session::session_of;
use super::translated::TranslatedLeg;
use super::{Gateway, Live};
use crate::call::RequestFacts;
use crate::dialect::Dialect;
use crate::route::{resolve, Route};
use crate::transport::headers::forwardable_request_headers;
use crate::transport::Outbound;

/// Where a Responses request goes below a provider's base URL.
const PATH: &str = "/responses";

/// A longer `prompt_cache_key` is not a session name (as for session headers).
const MAX_SESSION_LEN: usize = 200;

pub async fn create(
    State(live): State<Arc<Live>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gateway = live.gateway();
    let (request, route) = match ResponsesCall::read(&gateway, &uri, &headers, body) {
        Ok(read) => read,
        Err(error) => return error.in_shape(Dialect::OpenaiChat).into_response(),
    };
    let chain: Vec<Route> = gateway.fallbacks.chain(&route).cloned().collect();
    let legs = std::iter::once(route)
        .chain(chain)
        .map(|route| request.leg(route));
    serve(&gateway, Dialect::OpenaiChat, legs).await
}

/// `/v1/responses/{id}` and the like: stored responses, which keyrelay
/// does not keep.
pub async fn stored(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorKind::NotFound,
        format!(
            "keyrelay stores no responses and serves only POST /v1/responses, so {method} {} has nothing to act on; a provider's own stored responses are at /p/PROVIDER/responses/...",
            uri.path()
        ),
    )
    .in_shape(Dialect::OpenaiChat)
    .into_response()
}

/// A Responses request as the client sent it, read once for every target.
struct ResponsesCall<'a> {
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    /// The `model` field.
    model: String,
    session: Option<String>,
    /// The hub request, built only when a target needs it translated.
    hub: OnceLock<Result<(MessagesRequest, Arc<RequestEcho>), ApiError>>,
}

impl<'a> ResponsesCall<'a> {
    fn read(
        gateway: &Gateway,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<(Self, Route), ApiError> {
        let body =
            body.map_err(|rejection| ApiError::body_rejected(&rejection, gateway.max_body_bytes))?;
        let model = request_head(&body)?.model;
        let route = resolve(&gateway.registry, &gateway.aliases, &model)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let session = session_of(headers, None).or_else(|| prompt_cache_key(&body));
        let call = ResponsesCall {
            uri,
            headers,
            body,
            model,
            session,
            hub: OnceLock::new(),
        };
        Ok((call, route))
    }

    /// The request as `route`'s provider takes it.
    fn leg(&self, route: Route) -> Result<RoutedLeg<'_>, ApiError> {
        if route.provider.spec.responses {
            return self.forward_leg(route).map(RoutedLeg::Forward);
        }
        let (hub, echo) = self.hub()?;
        let dialect = route.provider.spec.dialect;
        let facts = self.facts(route.model);
        let leg = TranslatedLeg::new(route.provider, dialect.hub_translator(), hub, facts)?
            .for_responses(echo.clone());
        Ok(RoutedLeg::Translate(leg))
    }

    /// The client's bytes, with the routed model name.
    fn forward_leg(&self, route: Route) -> Result<ForwardLeg, ApiError> {
        let provider = route.provider;
        let body = routed_body(&self.body, &self.model, &route.model)?;
        let outbound = Outbound {
            method: Method::POST,
            url: provider.endpoint(PATH, self.uri.query())?,
            headers: forwardable_request_headers(self.headers),
            body,
            auth: provider.spec.auth.clone(),
            dialect: provider.spec.dialect,
        };
        Ok(ForwardLeg {
            provider,
            facts: self.facts(route.model),
            outbound,
            shape: Dialect::OpenaiChat,
        })
    }

    fn facts(&self, model: String) -> RequestFacts {
        RequestFacts::for_model(model).in_session(self.session.clone())
    }

    fn hub(&self) -> Result<&(MessagesRequest, Arc<RequestEcho>), ApiError> {
        let hub = self.hub.get_or_init(|| {
            let request: ResponsesRequest = serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::invalid(format!(
                    "request body is not a valid Responses request: {e}"
                ))
            })?;
            let translated = request.to_messages().map_err(|e| ApiError::invalid(e.0))?;
            if !translated.dropped.is_empty() {
                tracing::debug!(dropped = ?translated.dropped, "responses request: left out for a provider without a Responses API");
            }
            Ok((translated.request, Arc::new(translated.echo)))
        });
        hub.as_ref().map_err(Clone::clone)
    }
}

/// The request's `prompt_cache_key`, when it can name a session.
fn prompt_cache_key(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Head {
        prompt_cache_key: Option<String>,
    }
    let key = serde_json::from_slice::<Head>(body)
        .ok()?
        .prompt_cache_key?;
    let key = key.trim();
    (!key.is_empty() && key.len() <= MAX_SESSION_LEN).then(|| key.to_owned())
}

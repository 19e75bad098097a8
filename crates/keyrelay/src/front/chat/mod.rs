//! `POST /v1/chat/completions` (OpenAI Chat Completions): routed like
//! `/v1/messages` — the same model strings, pools, session affinity and
//! fallback chains — and answered in OpenAI's shapes, keyrelay's own errors
//! included.
//!
//! - A provider that speaks Chat Completions (openai-chat, OpenRouter) gets
//!   the client's bytes, only the `model` value replaced when routing
//!   changed it, and its answer goes back as is, whole or streamed.
//! - Any other provider gets the request through the hub: Chat → Anthropic
//!   Messages → the provider's own API (an Anthropic-dialect provider takes
//!   the hub request itself), and its answer comes back the same way.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::MessagesRequest;
use dialects::openai::inbound::ChatRequest;
use http::{HeaderMap, Method, Uri};

use super::error::ApiError;
use super::fallback::{serve, RoutedLeg};
use super::forward::ForwardLeg;
use super::messages::request_head;
use super::model_field::routed_body;
use super::session::session_of;
use super::translated::{ClientApi, TranslatedLeg};
use super::{Gateway, Live};
use crate::call::RequestFacts;
use crate::dialect::Dialect;
use crate::route::{resolve, Route};
use crate::transport::headers::forwardable_request_headers;
use crate::transport::Outbound;

/// Where a Chat Completions request goes below a provider's base URL.
const PATH: &str = "/chat/completions";

pub async fn completions(
    State(live): State<Arc<Live>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gateway = live.gateway();
    let (request, route) = match ChatCall::read(&gateway, &uri, &headers, body) {
        Ok(read) => read,
        Err(error) => return error.in_shape(Dialect::OpenaiChat).into_response(),
    };
    let chain: Vec<Route> = gateway.fallbacks.chain(&route).cloned().collect();
    let legs = std::iter::once(route)
        .chain(chain)
        .map(|route| request.leg(route));
    serve(&gateway, Dialect::OpenaiChat, legs).await
}

/// A Chat Completions request as the client sent it, read once for every target.
struct ChatCall<'a> {
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    /// The `model` field.
    model: String,
    session: Option<String>,
    /// The hub request, built only when a target needs it translated.
    hub: OnceLock<Result<(MessagesRequest, ClientApi), ApiError>>,
}

impl<'a> ChatCall<'a> {
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
        let call = ChatCall {
            uri,
            headers,
            body,
            model,
            session: session_of(headers, None),
            hub: OnceLock::new(),
        };
        Ok((call, route))
    }

    /// The request as `route`'s provider takes it.
    fn leg(&self, route: Route) -> Result<RoutedLeg<'_>, ApiError> {
        let dialect = route.provider.spec.dialect;
        if dialect.is_native_for(Dialect::OpenaiChat) {
            return self.forward_leg(route).map(RoutedLeg::Forward);
        }
        let (hub, client) = self.hub()?;
        let facts = self.facts(route.model);
        let leg = TranslatedLeg::new(route.provider, dialect.hub_translator(), hub, facts)?
            .for_client(*client);
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

    fn hub(&self) -> Result<&(MessagesRequest, ClientApi), ApiError> {
        let hub = self.hub.get_or_init(|| {
            let request: ChatRequest = serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::invalid(format!(
                    "request body is not a valid Chat Completions request: {e}"
                ))
            })?;
            let client = ClientApi::OpenaiChat {
                include_usage: request.include_usage(),
            };
            let hub = request.to_messages().map_err(|e| ApiError::invalid(e.0))?;
            Ok((hub, client))
        });
        hub.as_ref().map_err(Clone::clone)
    }
}

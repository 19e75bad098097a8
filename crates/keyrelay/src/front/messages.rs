//! `POST /v1/messages` (and `count_tokens`): routed to the model's provider,
//! forwarded to Anthropic-dialect providers and translated for the others;
//! on through the model's fallback chain when a provider cannot serve.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use super::error::ApiError;
use super::fallback::{serve, RoutedLeg};
use super::forward::{forward, ForwardLeg};
use super::model_field::routed_body;
use super::session::session_of;
use super::translated::TranslatedLeg;
use super::{Gateway, Live};
use crate::call::RequestFacts;
use crate::dialect::Dialect;
use crate::route::{resolve, Route, RouteError};
use crate::transport::headers::forwardable_request_headers;
use crate::transport::Outbound;
use dialects::anthropic::MessagesRequest;

pub async fn messages(
    State(live): State<Arc<Live>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&live.gateway(), "/v1/messages", uri, headers, body).await
}

pub async fn count_tokens(
    State(live): State<Arc<Live>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(
        &live.gateway(),
        "/v1/messages/count_tokens",
        uri,
        headers,
        body,
    )
    .await
}

/// A Messages request as the client sent it, read once for every target.
struct Request<'a> {
    path: &'a str,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    /// The `model` field.
    model: String,
    /// The session the client names, for session affinity.
    session: Option<String>,
    /// The whole document, parsed only when a target needs it translated.
    parsed: OnceLock<Result<MessagesRequest, ApiError>>,
}

async fn handle(
    gateway: &Gateway,
    path: &str,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (request, route) = match Request::read(gateway, path, &uri, &headers, body) {
        Ok(read) => read,
        Err(error) => return error.into_response(),
    };
    if path.ends_with("count_tokens") {
        return count(gateway, &request, route).await;
    }
    let chain: Vec<Route> = gateway.fallbacks.chain(&route).cloned().collect();
    let legs = std::iter::once(route)
        .chain(chain)
        .map(|route| request.leg(route));
    serve(gateway, Dialect::Anthropic, legs).await
}

/// Token counting does not fall back: it goes to the route's provider, which
/// counts an Anthropic request itself, counts its own form, or is estimated.
async fn count(gateway: &Gateway, request: &Request<'_>, route: Route) -> Response {
    if route.provider.spec.dialect.translator().is_none() {
        return match request.forward_leg(route) {
            Ok(leg) => forward(gateway, leg).await,
            Err(error) => error.into_response(),
        };
    }
    match request.parsed() {
        Ok(parsed) => {
            super::count_tokens::count(gateway, &route.provider, parsed, &route.model).await
        }
        Err(error) => error.into_response(),
    }
}

impl<'a> Request<'a> {
    /// The request and its route.
    fn read(
        gateway: &Gateway,
        path: &'a str,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<(Self, Route), ApiError> {
        let body =
            body.map_err(|rejection| ApiError::body_rejected(&rejection, gateway.max_body_bytes))?;
        let RequestHead { model, user_id } = request_head(&body)?;
        let session = session_of(headers, user_id.as_deref());
        let route = resolve(&gateway.registry, &gateway.aliases, &model).map_err(route_error)?;
        let request = Request {
            path,
            uri,
            headers,
            body,
            model,
            session,
            parsed: OnceLock::new(),
        };
        Ok((request, route))
    }

    /// The request as `route`'s provider takes it.
    fn leg(&self, route: Route) -> Result<RoutedLeg<'_>, ApiError> {
        match route.provider.spec.dialect.translator() {
            Some(translator) => {
                let request = self.parsed()?;
                let facts = self.facts(route.model);
                let leg = TranslatedLeg::new(route.provider, translator, request, facts)?;
                Ok(RoutedLeg::Translate(leg))
            }
            None => self.forward_leg(route).map(RoutedLeg::Forward),
        }
    }

    /// The client's bytes for an Anthropic-dialect provider, untouched
    /// unless the model name changes.
    fn forward_leg(&self, route: Route) -> Result<ForwardLeg, ApiError> {
        let provider = route.provider;
        let body = routed_body(&self.body, &self.model, &route.model)?;
        let outbound = Outbound {
            method: Method::POST,
            url: provider.endpoint(self.path, self.uri.query())?,
            headers: forwardable_request_headers(self.headers),
            body,
            auth: provider.spec.auth.clone(),
            dialect: provider.spec.dialect,
        };
        Ok(ForwardLeg {
            provider,
            facts: self.facts(route.model),
            outbound,
            shape: Dialect::Anthropic,
        })
    }

    /// What the pool weighs for this request sent to `model`.
    fn facts(&self, model: String) -> RequestFacts {
        RequestFacts::for_model(model).in_session(self.session.clone())
    }

    fn parsed(&self) -> Result<&MessagesRequest, ApiError> {
        let parsed = self.parsed.get_or_init(|| {
            serde_json::from_slice(&self.body).map_err(|e| {
                ApiError::invalid(format!("request body is not a valid Messages request: {e}"))
            })
        });
        parsed.as_ref().map_err(Clone::clone)
    }
}

/// What routing reads of a Messages (or Chat Completions) body.
pub(super) struct RequestHead {
    pub model: String,
    /// `metadata.user_id`, where older Claude Code versions name the session.
    user_id: Option<String>,
}

/// The `model` and `metadata.user_id` fields, read without building the
/// rest of the document (a Claude Code request is tens of kilobytes; each
/// path parses it fully once, and only if it needs to).
pub(super) fn request_head(body: &[u8]) -> Result<RequestHead, ApiError> {
    #[derive(serde::Deserialize)]
    struct Head {
        model: Option<serde_json::Value>,
        /// A `Value`, so an odd `metadata` is the provider's to judge.
        metadata: Option<serde_json::Value>,
    }
    let not_object = |detail: String| {
        ApiError::invalid(format!("request body is not a valid JSON object{detail}"))
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(not_object(String::new()));
    }
    let head: Head = serde_json::from_slice(body).map_err(|e| not_object(format!(": {e}")))?;
    let user_id = head
        .metadata
        .as_ref()
        .and_then(|m| m.get("user_id")?.as_str())
        .map(str::to_owned);
    match head.model {
        Some(serde_json::Value::String(model)) => Ok(RequestHead { model, user_id }),
        Some(_) => Err(ApiError::invalid("model: must be a string")),
        None => Err(ApiError::invalid("model: field required")),
    }
}

fn route_error(error: RouteError) -> ApiError {
    ApiError::invalid(error.to_string())
}

//! `POST /v1/messages` (and `count_tokens`) for Anthropic-dialect providers.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, Uri};

use super::error::ApiError;
use super::forward::forward;
use super::session::session_of;
use super::translated::translated;
use super::Gateway;
use crate::call::RequestFacts;
use crate::dialect::Dialect;
use crate::registry::Provider;
use crate::route::{resolve, RouteError};
use crate::transport::headers::forwardable_request_headers;
use crate::transport::Outbound;
use dialects::anthropic::MessagesRequest;
use dialects::Translator;

pub async fn messages(
    State(gateway): State<Arc<Gateway>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&gateway, "/v1/messages", uri, headers, body).await
}

pub async fn count_tokens(
    State(gateway): State<Arc<Gateway>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(&gateway, "/v1/messages/count_tokens", uri, headers, body).await
}

/// What a Messages request turned into after routing.
enum Plan {
    /// An Anthropic-dialect provider: forward the bytes.
    Forward(Arc<Provider>, Box<Outbound>, RequestFacts),
    /// Another dialect: translate.
    Translate {
        provider: Arc<Provider>,
        translator: &'static dyn Translator,
        request: Box<MessagesRequest>,
        model: String,
        session: Option<String>,
    },
}

async fn handle(
    gateway: &Gateway,
    path: &str,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let counting = path.ends_with("count_tokens");
    match prepare(gateway, path, &uri, &headers, body) {
        Ok(Plan::Forward(provider, outbound, facts)) => {
            forward(gateway, &provider, *outbound, &facts, Dialect::Anthropic).await
        }
        Ok(Plan::Translate {
            provider,
            request,
            model,
            ..
        }) if counting => super::count_tokens::count(gateway, &provider, &request, &model).await,
        Ok(Plan::Translate {
            provider,
            translator,
            request,
            model,
            session,
        }) => {
            let facts = RequestFacts::for_model(&model).in_session(session);
            translated(gateway, &provider, translator, *request, &facts).await
        }
        Err(error) => error.into_response(),
    }
}

fn prepare(
    gateway: &Gateway,
    path: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Plan, ApiError> {
    let body =
        body.map_err(|rejection| ApiError::body_rejected(&rejection, gateway.max_body_bytes))?;
    let RequestHead { model, user_id } = request_head(&body)?;
    let session = session_of(headers, user_id.as_deref());
    let route = resolve(&gateway.registry, &gateway.aliases, &model).map_err(route_error)?;
    let provider = route.provider;
    if let Some(translator) = provider.spec.dialect.translator() {
        let request: MessagesRequest = serde_json::from_slice(&body).map_err(|e| {
            ApiError::invalid(format!("request body is not a valid Messages request: {e}"))
        })?;
        return Ok(Plan::Translate {
            provider,
            translator,
            request: Box::new(request),
            model: route.model,
            session,
        });
    }
    // Forward the client's bytes untouched unless the model name changes.
    let body = if route.model == model {
        body
    } else {
        let mut request: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&body).map_err(|e| ApiError::invalid(e.to_string()))?;
        request.insert(
            "model".into(),
            serde_json::Value::String(route.model.clone()),
        );
        Bytes::from(serde_json::to_vec(&request).map_err(|e| ApiError::invalid(e.to_string()))?)
    };
    let outbound = Outbound {
        method: Method::POST,
        url: provider.endpoint(path, uri.query())?,
        headers: forwardable_request_headers(headers),
        body,
        auth: provider.spec.auth.clone(),
        dialect: provider.spec.dialect,
    };
    let facts = RequestFacts::for_model(route.model).in_session(session);
    Ok(Plan::Forward(provider, Box::new(outbound), facts))
}

/// What routing reads of a Messages body.
struct RequestHead {
    model: String,
    /// `metadata.user_id`, where older Claude Code versions name the session.
    user_id: Option<String>,
}

/// The `model` and `metadata.user_id` fields, read without building the
/// rest of the document (a Claude Code request is tens of kilobytes; each
/// path parses it fully once, and only if it needs to).
fn request_head(body: &[u8]) -> Result<RequestHead, ApiError> {
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

//! `/p/{provider}/{rest}`: a provider's native API with a pooled key swapped
//! in. Official SDKs work with base URL `http://HOST:PORT/p/PROVIDER`.

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Uri};

use dialects::client::bounded_model;

use super::legs::ForwardLeg;
use super::session::session_of;
use super::SentWith;
use crate::call::{RequestFacts, Target};
use crate::error::{ApiError, ErrorKind};
use crate::gateway::Live;
use crate::team::usage::Generation;
use crate::team::Held;
use crate::transport::headers::{forwardable_request_headers, strip_key_param};
use crate::transport::Outbound;

pub async fn passthrough(
    State(live): State<Arc<Live>>,
    SentWith(grant): SentWith,
    Path((name, _)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gateway = live.gateway();
    let Some(provider) = gateway.registry.get(&name).cloned() else {
        if let Some(off) = gateway.registry.off(&name) {
            let shape = off.dialect;
            return ApiError::from(off).in_shape(shape).into_response();
        }
        return ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorKind::NotFound,
            format!(
                "keyrelay: unknown provider `{name}`; known providers: {}",
                gateway.registry.names()
            ),
        )
        .into_response();
    };
    let shape = provider.spec.dialect;
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            return ApiError::body_rejected(&rejection, gateway.max_body_bytes)
                .in_shape(shape)
                .into_response()
        }
    };
    // The raw path, not axum's percent-decoded capture: forward it exactly.
    let rest = uri.path().splitn(4, '/').nth(3).unwrap_or("");
    let query = uri.query().map(strip_key_param).filter(|q| !q.is_empty());
    let url = match provider.endpoint(&format!("/{rest}"), query.as_deref()) {
        Ok(url) => url,
        Err(err) => return ApiError::from(err).in_shape(shape).into_response(),
    };
    let outbound = Outbound {
        method,
        url,
        headers: forwardable_request_headers(
            &headers,
            provider.spec.dialect,
            &provider.spec.forward_headers,
        ),
        body,
        auth: provider.spec.auth.clone(),
        dialect: provider.spec.dialect,
    };
    let model = match native_model(rest, &outbound.body).map(bounded_model) {
        None => None,
        Some(Ok(model)) => Some(model),
        Some(Err(error)) => return ApiError::from(error).in_shape(shape).into_response(),
    };
    // A virtual key passes through only to a provider its routes open
    // whole (`provider@*`).
    let held = match grant {
        None => None,
        Some(grant) => {
            let team = live.team();
            let price = model
                .as_deref()
                .and_then(|m| gateway.prices.get(provider.name(), m));
            let body_len = outbound.body.len();
            match team
                .admit_passthrough(&grant, provider.name(), model.as_deref(), price, body_len)
                .await
            {
                Ok(admitted) => admitted,
                Err(refused) => {
                    let now_ms = team.clock().now_ms();
                    return grant
                        .refusal(&refused, now_ms)
                        .in_shape(shape)
                        .into_response();
                }
            }
        }
    };
    let generation = outbound.method == Method::POST && model.is_some();
    let facts = RequestFacts {
        model,
        session: session_of(&headers),
        exclude: Vec::new(),
    };
    let leg = ForwardLeg {
        target: Target {
            provider,
            facts,
            outbound,
        },
        shape,
        continuation: None,
    };
    // The provider alone (no fallback): its answer as it is.
    let mut response = crate::call::serve(&gateway.caller, shape, [Ok(leg)]).await;
    let extensions = response.extensions_mut();
    if generation {
        extensions.insert(Generation);
    }
    if let Some(admitted) = held {
        extensions.insert(Held::new(admitted));
    }
    response
}

/// The model a native request names: in its path (Gemini's
/// `models/{model}:generateContent`), else in its JSON body's top-level
/// `model` field.
fn native_model(path: &str, body: &[u8]) -> Option<String> {
    if let Some(start) = path.find("models/") {
        let tail = &path[start + "models/".len()..];
        let model = tail.split([':', '/', '?']).next().unwrap_or("");
        if !model.is_empty() {
            return Some(model.to_owned());
        }
    }
    // Only as far as the field: the body is forwarded as it is, unread.
    let value = dialects::client::scan::top_level_value(body, "model")?;
    serde_json::from_slice::<Option<String>>(&body[value]).ok()?
}

//! The client APIs: one generic front over the descriptions in
//! [`dialects::client`]. A request is read by its API's description
//! ([`request::ClientCall`]), its model routed, and each target of its
//! fallback chain made a leg — the client's bytes for a provider that
//! speaks the API natively, the hub request translated for any other — which
//! the call layer serves ([`crate::call::serve`]). Adding a client API is a
//! description in `dialects::client` and a line in [`router`].
//!
//! Also here: the model lists (`/v1/models`, Gemini's), and the native
//! passthrough `/p/{provider}/…`.

mod count;
mod gemini_models;
mod json_body;
mod legs;
mod model_field;
mod models;
mod passthrough;
mod request;
mod resume;
mod session;
mod translated;

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use bytes::Bytes;
use dialects::client::{self, ClientApi, Operation};
use http::{HeaderMap, Method, StatusCode, Uri};

use crate::call::Continuation;
use crate::error::{ApiError, ErrorKind};
use crate::gateway::Live;
use request::ClientCall;

/// The client APIs' routes, the model lists and the native passthrough.
pub fn router() -> Router<Arc<Live>> {
    Router::new()
        .route("/v1/messages", serves(&client::MESSAGES))
        .route("/v1/messages/count_tokens", serves(&client::MESSAGES))
        .route("/v1/chat/completions", serves(&client::CHAT))
        .route("/v1/responses", serves(&client::RESPONSES))
        .route("/v1/responses/{*rest}", any(stored_responses))
        .route("/v1/models", get(gemini_models::v1_models))
        .route(
            "/v1/models/{*rest}",
            serves(&client::GEMINI).get(gemini_models::model),
        )
        .route("/v1beta/models", get(gemini_models::list))
        .route(
            "/v1beta/models/{*rest}",
            serves(&client::GEMINI).get(gemini_models::model),
        )
        .route("/p/{provider}/{*rest}", any(passthrough::passthrough))
}

/// The client API whose errors a client calling `path` reads, if `path`
/// belongs to one (`/p/…` takes its provider's shape, decided by the caller).
pub fn client_api_of(path: &str) -> Option<&'static dyn ClientApi> {
    match path {
        "/v1/messages" | "/v1/messages/count_tokens" => Some(&client::MESSAGES),
        "/v1/chat/completions" => Some(&client::CHAT),
        p if p.starts_with("/v1/responses") => Some(&client::RESPONSES),
        p if p.starts_with("/v1beta/") || (p.starts_with("/v1/models/") && p.contains(':')) => {
            Some(&client::GEMINI)
        }
        _ => None,
    }
}

/// `POST` for a client API.
fn serves(api: &'static dyn ClientApi) -> MethodRouter<Arc<Live>> {
    post(
        move |State(live): State<Arc<Live>>,
              uri: Uri,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| async move {
            serve(api, &live, &uri, &headers, body).await
        },
    )
}

/// The generic front: read, route, then count or serve over the fallback chain.
async fn serve(
    api: &'static dyn ClientApi,
    live: &Live,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gateway = live.gateway();
    let shape = api.error_shape();
    let (call, route) = match ClientCall::read(api, &gateway, uri, headers, body) {
        Ok(read) => read,
        Err(error) => return error.in_shape(shape).into_response(),
    };
    if call.head.operation == Operation::CountTokens {
        return count::count(&gateway, &call, route).await;
    }
    let fallbacks: Vec<_> = gateway.fallbacks.chain(&route).cloned().collect();
    let chain: Vec<_> = std::iter::once(route).chain(fallbacks).collect();
    let resume = call.resume(&gateway.caller, &chain);
    let legs = chain.into_iter().enumerate().map(|(at, route)| {
        let continuation = resume.clone().map(|resume| Continuation { resume, at });
        call.leg(route, continuation)
    });
    crate::call::serve(&gateway.caller, shape, legs).await
}

/// `/v1/responses/{id}` and the like: stored responses, which keyrelay
/// does not keep.
async fn stored_responses(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorKind::NotFound,
        format!(
            "keyrelay stores no responses and serves only POST /v1/responses, so {method} {} has nothing to act on; a provider's own stored responses are at /p/PROVIDER/responses/...",
            uri.path()
        ),
    )
    .in_shape(client::RESPONSES.error_shape())
    .into_response()
}

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
mod embeddings;
mod gemini_models;
mod json_body;
mod legs;
mod model_field;
mod models;
mod off_thread;
mod passthrough;
mod request;
mod resume;
mod session;
mod translated;

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::FromRequestParts;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, MethodRouter};
use axum::Router;
use bytes::Bytes;
use dialects::client::{self, ClientApi, Operation};
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode, Uri};

use crate::call::Continuation;
use crate::error::{ApiError, ErrorKind};
use crate::gateway::Live;
use crate::team::usage::Generation;
use crate::team::{Grant, Held, Refused};
use request::ClientCall;

/// The client APIs' routes, the model lists and the native passthrough.
pub fn router() -> Router<Arc<Live>> {
    Router::new()
        .route("/v1/messages", serves(&client::MESSAGES))
        .route("/v1/messages/count_tokens", serves(&client::MESSAGES))
        .route("/v1/chat/completions", serves(&client::CHAT))
        .route("/v1/embeddings", serves(&client::EMBEDDINGS))
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
        "/v1/embeddings" => Some(&client::EMBEDDINGS),
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
              SentWith(grant): SentWith,
              uri: Uri,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| async move {
            serve(api, &live, grant.as_ref(), &uri, &headers, body).await
        },
    )
}

tokio::task_local! {
    /// The virtual key the request being served was sent with, as the front
    /// door found it: set for the request's task while the router serves it
    /// (a request's own extensions would cost an allocation each).
    pub static SENT_WITH: Option<Arc<Grant>>;
}

/// The virtual key a request was sent with ([`SENT_WITH`]), if any.
pub struct SentWith(pub Option<Arc<Grant>>);

impl<S: Send + Sync> FromRequestParts<S> for SentWith {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(SentWith(SENT_WITH.try_with(Clone::clone).ok().flatten()))
    }
}

/// The generic front: read, route, check the virtual key's routes and
/// limits, then count, embed or serve over the fallback chain.
async fn serve(
    api: &'static dyn ClientApi,
    live: &Live,
    grant: Option<&Arc<Grant>>,
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
    let allowed = |route: &crate::route::Route| {
        grant.is_none_or(|g| g.allows(&call.head.model, route.provider.name(), &route.model))
    };
    if call.head.operation == Operation::CountTokens {
        if let Some(grant) = grant.filter(|_| !allowed(&route)) {
            let refused = Refused::Route {
                model: call.head.model.clone(),
            };
            let now_ms = live.team().clock().now_ms();
            return grant
                .refusal(&refused, now_ms)
                .in_shape(shape)
                .into_response();
        }
        return count::count(&gateway, &call, route).await;
    }
    let embed = match call.head.operation {
        Operation::Embed => match api.embed_request(&call.request()) {
            Ok(embed) => Some(embed),
            Err(error) => return ApiError::from(error).in_shape(shape).into_response(),
        },
        _ => None,
    };
    let held = match grant {
        None => None,
        Some(grant) => {
            let team = live.team();
            // The price matters before the answer only to a budget.
            let price = (!grant.key.budget.is_empty())
                .then(|| gateway.prices.get(route.provider.name(), &route.model))
                .flatten();
            let routed = (route.provider.name(), route.model.as_str());
            match team
                .admit(grant, routed, &call.head.model, price, call.body_len())
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
    // A virtual key falls back only to targets its routes allow.
    let fallbacks: Vec<_> = gateway
        .fallbacks
        .chain(&route)
        .filter(|fallback| allowed(fallback))
        .cloned()
        .collect();
    let chain: Vec<_> = std::iter::once(route).chain(fallbacks).collect();
    if let Some(embed) = &embed {
        let mut response = embeddings::serve(&gateway.caller, &call, embed, chain).await;
        if let Some(admitted) = held {
            response.extensions_mut().insert(Held::new(admitted));
        }
        return response;
    }
    // A big body's translation, off the async workers.
    if let Some(Err(error)) = match chain.first() {
        Some(first) => Some(call.translate_first(first).await),
        None => None,
    } {
        return error.in_shape(shape).into_response();
    }
    let resume = resume::resume_of(&call, &gateway.caller, &chain);
    let legs = chain.into_iter().enumerate().map(|(at, route)| {
        let continuation = resume.clone().map(|resume| Continuation { resume, at });
        call.leg(route, continuation)
    });
    let mut response = crate::call::serve(&gateway.caller, shape, legs).await;
    let extensions = response.extensions_mut();
    extensions.insert(Generation);
    if let Some(admitted) = held {
        extensions.insert(Held::new(admitted));
    }
    response
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

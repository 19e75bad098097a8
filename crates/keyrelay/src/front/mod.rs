//! The HTTP API clients talk to (axum).
//!
//! Middleware, outermost first: panic → 500 in Anthropic shape; access-token
//! check (skipped for `/health`); the limit on requests in flight
//! ([`limit`]); body size limit. Handlers then parse, route
//! the model, build the upstream request for each target of its fallback
//! chain, hand them to [`fallback::serve`] (which asks the call layer,
//! [`crate::call`], target by target) and render what comes back.

mod admin;
mod attempt_log;
mod chat;
mod count_tokens;
pub mod error;
mod exhausted;
mod fallback;
mod forward;
mod gemini;
pub mod limit;
mod live;
mod messages;
mod model_field;
mod models;
mod observe;
mod passthrough;
mod render;
pub mod requests;
mod responses;
mod session;
pub mod translated;
pub mod ui;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use anyhow::Context;
use keypool::StateStore;

use crate::call::Caller;
use crate::config::{Config, Timeouts};
use crate::dialect::Dialect;
use crate::env::Env;
use crate::keys_file::KeysFile;
use crate::registry::Registry;
use crate::route::{Aliases, Fallbacks};
use crate::server::ServeSettings;
use error::{ApiError, ErrorKind};
pub use live::{ChangeError, Live};
pub use observe::metrics_handle;

/// Everything a handler needs, built from one configuration; a reload
/// builds a new one ([`Live`]).
pub struct Gateway {
    /// The configuration this was built from (keys file not applied).
    pub config: Config,
    pub registry: Registry,
    pub aliases: Aliases,
    pub fallbacks: Fallbacks,
    pub caller: Caller,
    pub access_tokens: Vec<String>,
    /// For `/admin` and `/metrics`; none means both are off.
    pub admin_tokens: Vec<String>,
    pub max_body_bytes: usize,
    /// Requests in flight and what one connection may hold (`[server]`).
    pub limits: limit::ClientLimits,
    /// How often disabled keys are re-checked.
    pub recheck_every: std::time::Duration,
}

impl Gateway {
    /// Providers and pools from `config` with `keys` applied, over `store`.
    pub fn build(
        settings: &ServeSettings,
        config: &Config,
        keys: &KeysFile,
        env: &dyn Env,
        store: Arc<dyn StateStore>,
    ) -> anyhow::Result<Gateway> {
        let registry = Registry::build(&keys.apply_to(config), env, store)?;
        let tokens = |listed: &[String], var: &str| {
            let mut tokens = listed.to_vec();
            if let Some(more) = env.non_empty(var) {
                tokens.extend(
                    more.split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                );
            }
            tokens
        };
        let access_tokens = tokens(&config.server.access_tokens, "KEYRELAY_ACCESS_TOKENS");
        let admin_tokens = tokens(&config.server.admin_tokens, "KEYRELAY_ADMIN_TOKENS");
        let aliases = Aliases::new(settings.aliases.clone(), config.aliases.clone());
        let fallbacks = Fallbacks::new(
            &registry,
            settings.fallbacks.clone(),
            config.fallbacks.clone(),
        )?;
        let caller = Caller::new(config, env).context("building the HTTP client")?;
        Ok(Gateway {
            config: config.clone(),
            registry,
            aliases,
            fallbacks,
            caller,
            access_tokens,
            admin_tokens,
            max_body_bytes: config.server.max_body_bytes,
            limits: limit::ClientLimits::of(&config.server),
            recheck_every: Timeouts::duration(config.pool.recheck_disabled_every),
        })
    }
}

/// The gateway as one service: the routes behind a single front door
/// (panics caught, requests observed, then access and admission checked on
/// the proxied routes). The door wraps the router once instead of every
/// route, so a request clones no boxed service stack.
pub fn app(
    live: Arc<Live>,
) -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + 'static {
    let limit = live.gateway().max_body_bytes;
    let door = FrontDoor {
        admission: limit::Admission::new(live.clone()),
        live: live.clone(),
    };
    tower::ServiceBuilder::new()
        .map_request(|request: http::Request<hyper::body::Incoming>| {
            request.map(axum::body::Body::new)
        })
        .layer(middleware::from_fn_with_state(door, front_door))
        .layer(DefaultBodyLimit::max(limit))
        .service(router(live))
}

/// The gateway's routes. The admin API, `/metrics` and the dashboard check
/// admin tokens themselves; [`app`] adds the front door.
pub fn router(live: Arc<Live>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages::messages))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/chat/completions", post(chat::completions))
        .route("/v1/responses", post(responses::create))
        .route("/v1/responses/{*rest}", any(responses::stored))
        .route("/v1/models", get(gemini::v1_models))
        .route("/v1/models/{*rest}", post(gemini::call).get(gemini::model))
        .route("/v1beta/models", get(gemini::list))
        .route(
            "/v1beta/models/{*rest}",
            post(gemini::call).get(gemini::model),
        )
        .route("/p/{provider}/{*rest}", any(passthrough::passthrough))
        .fallback(not_found)
        .nest("/admin", admin::router(live.clone()))
        .route(
            "/metrics",
            get(admin::metrics).layer(middleware::from_fn_with_state(
                live.clone(),
                admin::require_admin,
            )),
        )
        .route("/health", get(health))
        .merge(ui::router())
        .with_state(live)
}

#[derive(Clone)]
struct FrontDoor {
    live: Arc<Live>,
    admission: limit::Admission,
}

/// Every request passes here once. A proxied route (see
/// [`observe::front_of`]) is observed, then needs an access token (when any
/// are configured), then a free slot; the rest go straight to the router.
async fn front_door(State(door): State<FrontDoor>, request: Request, next: Next) -> Response {
    let Some(front) = observe::front_of(request.uri().path()) else {
        return unless_panicked(next.run(request)).await;
    };
    let watch = observe::Watch::begin(front, &request);
    let response = match refuse_access(&door.live, &request) {
        Some(refused) => refused,
        None => match door.admission.admit() {
            None => door.admission.busy(request.uri().path()),
            Some(slot) => unless_panicked(next.run(request))
                .await
                .map(|body| axum::body::Body::new(limit::Holding::new(body, slot))),
        },
    };
    watch.finish(door.live, response)
}

async fn health(State(live): State<Arc<Live>>) -> Json<serde_json::Value> {
    let gateway = live.gateway();
    let providers: Vec<_> = gateway
        .registry
        .all()
        .iter()
        .filter(|p| !p.pool.is_empty() && p.spec.needs_keys())
        .map(|p| {
            let snapshot = p.pool.snapshot();
            let available = snapshot
                .iter()
                .filter(|k| k.state == keypool::KeyState::Available)
                .count();
            json!({"name": p.name(), "keys": snapshot.len(), "available": available})
        })
        .collect();
    Json(json!({"status": "ok", "providers": providers}))
}

async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ErrorKind::NotFound,
        format!(
            "keyrelay has no route {} {}; use POST /v1/messages, POST /v1/chat/completions, POST /v1/responses, POST /v1beta/models/MODEL:generateContent or /p/PROVIDER/... for a provider's native API",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Requires one of the access tokens, when any are configured, as
/// `x-api-key`, `Authorization: Bearer` or `x-goog-api-key` (and, on
/// Gemini's routes, as Gemini clients may send a key: `?key=`).
/// The refusal, when access is not allowed.
fn refuse_access(live: &Live, request: &Request) -> Option<Response> {
    let gateway = live.gateway();
    if gateway.access_tokens.is_empty() {
        return None;
    }
    let headers = request.headers();
    let presented = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
        .or_else(|| headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()))
        .map(str::to_owned);
    let path = request.uri().path();
    let gemini = gemini::is_gemini(path);
    let presented = presented.or_else(|| {
        gemini
            .then(|| request.uri().query().and_then(gemini::key_param))
            .flatten()
    });
    // An OpenAI or Gemini client reads errors in its own API's shape.
    let shape = if path.starts_with("/v1/chat/") || path.starts_with("/v1/responses") {
        Dialect::OpenaiChat
    } else if gemini {
        Dialect::Gemini
    } else {
        Dialect::Anthropic
    };
    let allowed = presented.is_some_and(|p| {
        gateway
            .access_tokens
            .iter()
            .any(|t| constant_time_eq(t.as_bytes(), p.trim().as_bytes()))
    });
    (!allowed).then(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Authentication,
            if gemini {
                "keyrelay: missing or wrong access token (send it as x-goog-api-key, ?key= or Authorization: Bearer)"
            } else {
                "keyrelay: missing or wrong access token (send it as x-api-key or Authorization: Bearer)"
            },
        )
        .in_shape(shape)
        .into_response()
    })
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The response, or a plain 500 when the handler panics.
async fn unless_panicked(response: impl std::future::Future<Output = Response>) -> Response {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(response)
        .catch_unwind()
        .await
        .unwrap_or_else(panicked)
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic payload is not echoed: it could hold request data.
    tracing::error!("request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Api,
        "keyrelay: internal error",
    )
    .into_response()
}

//! The HTTP API clients talk to (axum).
//!
//! Middleware, outermost first: panic → 500 in Anthropic shape; access-token
//! check (skipped for `/health`); body size limit. Handlers then parse, route
//! the model, build the upstream request for each target of its fallback
//! chain, hand them to [`fallback::serve`] (which asks the call layer,
//! [`crate::call`], target by target) and render what comes back.

mod attempt_log;
mod count_tokens;
pub mod error;
mod exhausted;
mod fallback;
mod forward;
mod messages;
mod models;
mod passthrough;
mod render;
mod session;
pub mod translated;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use crate::call::Caller;
use crate::registry::Registry;
use crate::route::{Aliases, Fallbacks};
use error::{ApiError, ErrorKind};

/// Everything a handler needs; shared by all requests.
pub struct Gateway {
    pub registry: Registry,
    pub aliases: Aliases,
    pub fallbacks: Fallbacks,
    pub caller: Caller,
    pub access_tokens: Vec<String>,
    pub max_body_bytes: usize,
    /// How often disabled keys are re-checked.
    pub recheck_every: std::time::Duration,
}

pub type AppState = Gateway;

/// The gateway's routes with their middleware.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let limit = gateway.max_body_bytes;
    Router::new()
        .route("/v1/messages", post(messages::messages))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/v1/models", get(models::list))
        .route("/p/{provider}/{*rest}", any(passthrough::passthrough))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            gateway.clone(),
            check_access,
        ))
        .route("/health", get(health))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(gateway)
}

async fn health(State(gateway): State<Arc<Gateway>>) -> Json<serde_json::Value> {
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
            "keyrelay has no route {} {}; use POST /v1/messages or /p/PROVIDER/... for a provider's native API",
            request.method(),
            request.uri().path()
        ),
    )
}

/// Requires one of the access tokens, when any are configured, as
/// `x-api-key` or `Authorization: Bearer`.
async fn check_access(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    if gateway.access_tokens.is_empty() {
        return next.run(request).await;
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
        .or_else(|| headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()));
    let allowed = presented.is_some_and(|p| {
        gateway
            .access_tokens
            .iter()
            .any(|t| constant_time_eq(t.as_bytes(), p.trim().as_bytes()))
    });
    if allowed {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Authentication,
            "keyrelay: missing or wrong access token (send it as x-api-key or Authorization: Bearer)",
        )
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

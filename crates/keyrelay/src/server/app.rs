//! The gateway as one HTTP service: the route table (client APIs from
//! [`crate::front`], operations from [`crate::ops`], `/health`) behind a
//! single front door.
//!
//! The front door, outermost first: panic → 500 in Anthropic shape; the
//! request body's pace ([`limit::TimedBody`], every route); on the proxied
//! routes, observation (request log, access log, metrics), the access-token
//! check, a declared `content-length` over the body limit (`413` before any
//! of the body is read), and the limit on requests in flight ([`limit`]);
//! then the body size limit and the router.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde_json::json;

use super::limit;
use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};
use crate::gateway::{Gateway, Live};
use crate::ops::observe::Watch;
use crate::ops::{bearer_token, constant_time_eq, Ops};
use crate::team::{secret, Denied, Grant};
use futures_util::future::Either;

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
    let ops = Ops::new(live.clone());
    let limits = limit::ClientLimits::of(&live.gateway().config.server);
    let door = FrontDoor {
        admission: limit::Admission::new(&limits),
        max_body_bytes: limit,
        body_read_timeout: limits.body_read_timeout,
        ops: ops.clone(),
    };
    tower::ServiceBuilder::new()
        .map_request(|request: http::Request<hyper::body::Incoming>| {
            request.map(axum::body::Body::new)
        })
        .layer(middleware::from_fn_with_state(door, front_door))
        .layer(DefaultBodyLimit::max(limit))
        .service(router(ops))
}

/// Every route: the client APIs, operations and `/health`.
pub fn router(ops: Ops) -> Router {
    crate::front::router()
        .with_state(ops.live.clone())
        .merge(crate::ops::router(&ops))
        .route("/health", get(health))
        .fallback(not_found)
        .with_state(ops)
}

#[derive(Clone)]
struct FrontDoor {
    ops: Ops,
    admission: limit::Admission,
    /// Fixed at start, as the body limit layer's.
    max_body_bytes: usize,
    body_read_timeout: std::time::Duration,
}

/// Every request passes here once, its body held to a pace. A proxied
/// route (see [`front_of`]) is observed, then needs an access token (when
/// any are configured), a declared length within the body limit, then a
/// free slot; the rest go straight to the router.
async fn front_door(State(door): State<FrontDoor>, request: Request, next: Next) -> Response {
    let request = timed(request, door.body_read_timeout);
    let Some(front) = front_of(request.uri().path()) else {
        return unless_panicked(next.run(request)).await;
    };
    let mut watch = Watch::begin(&door.ops, front, &request);
    let gateway = door.ops.live.gateway();
    let access = {
        let path = request.uri().path();
        let gemini = dialects::client::is_gemini(path);
        let asked = Asked {
            presented: presented_credential(&request, gemini),
            gemini,
            shape: shape_of(&gateway, path),
        };
        check_access(&gateway, asked).await
    };
    let response = match access {
        Err(refused) => refused,
        Ok(grant) => {
            if let Some(grant) = &grant {
                watch.by(grant.clone());
            }
            let admitted = serve_admitted(&door, &gateway, request, next, grant);
            crate::telemetry::within(watch.span(), admitted).await
        }
    };
    watch.finish(door.ops.requests.clone(), response, gateway)
}

/// A request past its access check: a declared length within the body
/// limit, then a free slot, then the router, with the virtual key it was
/// sent with (if any) where the fronts find it ([`crate::front::SENT_WITH`]).
async fn serve_admitted(
    door: &FrontDoor,
    gateway: &Gateway,
    request: Request,
    next: Next,
    grant: Option<Arc<Grant>>,
) -> Response {
    let shape = || shape_of(gateway, request.uri().path());
    let max_body_bytes = door.max_body_bytes;
    if declared_length(&request).is_some_and(|n| n > max_body_bytes as u64) {
        // Answered unread: hyper then closes the connection instead of
        // reading on.
        return ApiError::body_too_large(max_body_bytes)
            .in_shape(shape())
            .into_response();
    }
    let Some(slot) = door.admission.admit() else {
        return door.admission.busy(shape());
    };
    let answer = match grant {
        Some(grant) => Either::Left(crate::front::SENT_WITH.scope(Some(grant), next.run(request))),
        None => Either::Right(next.run(request)),
    };
    unless_panicked(answer)
        .await
        .map(|body| axum::body::Body::new(limit::Holding::new(body, slot)))
}

/// `request` with its body held to `timeout` (a stall or a trickle fails
/// the read); a body already whole is left as it is.
fn timed(request: Request, timeout: std::time::Duration) -> Request {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        return request;
    }
    request.map(|body| axum::body::Body::new(limit::TimedBody::new(body, timeout)))
}

/// The request's `content-length`, when it sends one that parses.
fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// What a path is, in the request log and metrics; `None` for what is not
/// a proxied request (health, metrics, admin, dashboard).
fn front_of(path: &str) -> Option<&'static str> {
    if let Some(api) = crate::front::client_api_of(path) {
        return Some(match path {
            "/v1/messages/count_tokens" => "count_tokens",
            _ => api.name(),
        });
    }
    match path {
        "/v1/models" => Some("models"),
        p if dialects::client::is_gemini(p) => Some("gemini"),
        p if p.starts_with("/p/") => Some("passthrough"),
        "/health" | "/metrics" => None,
        p if p.starts_with("/admin") || p.starts_with("/ui") => None,
        _ => Some("other"),
    }
}

/// Whose error format a path's client expects: its client API's, the
/// provider's own on `/p/{provider}/…`, else Anthropic's.
fn shape_of(gateway: &Gateway, path: &str) -> Dialect {
    if let Some(api) = crate::front::client_api_of(path) {
        return api.error_shape();
    }
    if dialects::client::is_gemini(path) {
        return Dialect::Gemini;
    }
    let Some(name) = path
        .strip_prefix("/p/")
        .and_then(|rest| rest.split('/').next())
    else {
        return Dialect::Anthropic;
    };
    match gateway.registry.get(name) {
        Some(provider) => provider.spec.dialect,
        None => gateway
            .registry
            .off(name)
            .map_or(Dialect::Anthropic, |off| off.dialect),
    }
}

/// `/health`: up, and what each pool holds. It says so when no pool has a
/// key, which is how a first run without keys looks.
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
    let mut health = json!({"status": "ok", "providers": providers});
    if let Some(warning) = gateway.registry.no_keys_warning() {
        health["warning"] = json!(warning);
    }
    Json(health)
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

/// Who may send a proxied request. With no access token and no virtual
/// key, anyone (a gateway for one person), though a virtual key presented
/// is still checked and counted. Otherwise one of the access
/// tokens or a virtual key (`kr-…`), as `x-api-key`, `Authorization:
/// Bearer` or `x-goog-api-key` (and, on Gemini's routes, as Gemini clients
/// may send a key: `?key=`). `Ok(Some(grant))` for a virtual key; the
/// refusal, in the client's shape, when access is not allowed.
async fn check_access(gateway: &Gateway, asked: Asked) -> Result<Option<Arc<Grant>>, Response> {
    let team = &gateway.team;
    let Asked {
        presented,
        gemini,
        shape,
    } = asked;
    let is_token = |p: &str| {
        gateway
            .access_tokens
            .iter()
            .any(|t| constant_time_eq(t.as_bytes(), p.as_bytes()))
    };
    // A virtual key is checked even where the door is otherwise open: its
    // spend and limits count, and a replica that has not yet loaded a key
    // made elsewhere looks it up rather than letting it through unseen.
    let open = gateway.access_tokens.is_empty() && !team.has_keys();
    match presented {
        Some(p) if is_token(&p) => Ok(None),
        Some(p) if secret::claims_virtual(&p) => match team.authenticate(&p).await {
            Ok(grant) => Ok(Some(grant)),
            Err(denied) => Err(denied_error(&denied).in_shape(shape).into_response()),
        },
        _ if open => Ok(None),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorKind::Authentication,
            if gemini {
                "keyrelay: missing or wrong access token (send it as x-goog-api-key, ?key= or Authorization: Bearer)"
            } else {
                "keyrelay: missing or wrong access token (send it as x-api-key or Authorization: Bearer)"
            },
        )
        .in_shape(shape)
        .into_response()),
    }
}

/// What the front door reads of a request to check its access, read
/// before any wait (a request is not `Sync`).
struct Asked {
    presented: Option<String>,
    /// On Gemini's routes.
    gemini: bool,
    /// Whose error shape the client reads.
    shape: Dialect,
}

/// The credential a request carries, trimmed: `x-api-key`, then
/// `Authorization: Bearer`, then `x-goog-api-key`, then (`gemini`) `?key=`.
fn presented_credential(request: &Request, gemini: bool) -> Option<String> {
    let headers = request.headers();
    let presented = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .or_else(|| {
            headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(bearer_token)
        })
        .or_else(|| headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()))
        .map(|p| p.trim().to_owned());
    presented.or_else(|| {
        gemini
            .then(|| request.uri().query().and_then(dialects::client::key_param))
            .flatten()
            .map(|p| p.trim().to_owned())
    })
}

/// Why a virtual key was refused, never with any of its secret.
fn denied_error(denied: &Denied) -> ApiError {
    let unauthorized = |message: String| {
        ApiError::new(StatusCode::UNAUTHORIZED, ErrorKind::Authentication, message)
    };
    match denied {
        Denied::Malformed => unauthorized(format!(
            "keyrelay: malformed virtual key: a virtual key is `kr-` followed by {} letters and digits; check that it was copied whole",
            secret::RANDOM_LEN
        )),
        Denied::Unknown => unauthorized(
            "keyrelay: unknown virtual key: it was never issued by this gateway, or it was deleted".into(),
        ),
        Denied::Expired { name, at_ms } => unauthorized(format!(
            "keyrelay: virtual key `{name}` expired at {}",
            crate::team::windows::rfc3339(*at_ms)
        )),
        Denied::Disabled { name } => unauthorized(format!(
            "keyrelay: virtual key `{name}` is disabled; an operator can enable it again"
        )),
        Denied::Unavailable => {
            let mut error = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Overloaded,
                "keyrelay: virtual keys cannot be checked now: the state store does not answer; try again shortly",
            );
            error.retry_after = Some(1);
            error
        }
    }
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

//! `/admin`: the key pools for the people who run keyrelay. JSON in and out;
//! keys go in, only fingerprints come out.
//!
//! Admin tokens are not access tokens. With none configured, `/admin` (and
//! `/metrics`) answer 404 as if they did not exist.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::request::Parts;
use http::StatusCode;
use keypool::{KeySnapshot, KeyState, OutcomeClass};
use serde::Deserialize;
use serde_json::{json, Value};

use super::problem::problem;
use super::requests::RequestLog;
use super::Ops;
use crate::check::{check_all, check_key};
use crate::gateway::{ChangeError, Live};

pub fn router(live: Arc<Live>) -> Router<Ops> {
    Router::new()
        .route("/keys", get(keys).post(add_keys))
        .route("/keys/check", post(check))
        .route("/keys/{id}", axum::routing::delete(remove_key))
        .route("/keys/{id}/disable", post(disable))
        .route("/keys/{id}/enable", post(enable))
        .route("/keys/{id}/check", post(check_one))
        .route("/requests", get(requests))
        .route("/reload", post(reload))
        .merge(super::vkeys::router())
        .merge(super::spend::router())
        .layer(middleware::from_fn_with_state(live, require_admin))
}

/// `Authorization: Bearer ADMIN_TOKEN` (the scheme in any case), compared
/// in constant time; 404 when no admin token is configured.
pub async fn require_admin(
    State(live): State<Arc<Live>>,
    request: Request,
    next: Next,
) -> Response {
    let gateway = live.gateway();
    if gateway.admin_tokens.is_empty() {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            "keyrelay: the admin API is off; set server.admin_tokens or KEYRELAY_ADMIN_TOKENS",
        );
    }
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(super::bearer_token);
    let allowed = presented.is_some_and(|p| {
        // Every token is compared, so the time taken says nothing of which matched.
        gateway.admin_tokens.iter().fold(false, |hit, t| {
            super::constant_time_eq(t.as_bytes(), p.as_bytes()) | hit
        })
    });
    if !allowed {
        return problem(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "keyrelay: missing or wrong admin token (send Authorization: Bearer ADMIN_TOKEN)",
        );
    }
    next.run(request).await
}

/// A key as the admin API shows it.
fn key_view(provider: &str, key: &KeySnapshot, now_ms: u64) -> Value {
    let outcomes: serde_json::Map<String, Value> = OutcomeClass::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), json!(key.outcomes.get(*c))))
        .collect();
    let cooling = key.state == KeyState::Cooling;
    json!({
        "provider": provider,
        "id": key.id,
        "key": key.key,
        "label": key.key.label(),
        "state": key.state,
        "cooldown": cooling.then(|| json!({
            "until_ms": now_ms + key.cooldown_remaining_ms,
            "remaining_ms": key.cooldown_remaining_ms,
            "class": key.cooling_class,
            "scope": "key",
        })),
        "model_cooldowns": key.model_cooldowns.iter().map(|c| json!({
            "model": c.model,
            "until_ms": now_ms + c.remaining_ms,
            "remaining_ms": c.remaining_ms,
            "class": c.class,
            "scope": "model",
        })).collect::<Vec<_>>(),
        "disabled_reason": key.disabled_reason,
        "group": key.group,
        "budget": key.budget,
        "requests": key.requests,
        "failures": key.failures,
        "outcomes": outcomes,
        "last_class": key.last_class,
        "last_error": key.last_failure.map(|(class, at_ms)| json!({"class": class, "at_ms": at_ms})),
        "requests_last_minute": key.recent_requests,
        "history": key.history,
        "inflight": key.inflight,
    })
}

async fn keys(State(live): State<Arc<Live>>) -> Json<Value> {
    let gateway = live.gateway();
    let providers: Vec<Value> = gateway
        .registry
        .all()
        .iter()
        .filter(|p| p.spec.needs_keys())
        .map(|p| {
            let keys: Vec<Value> = p
                .pool
                .snapshot()
                .iter()
                .map(|k| key_view(p.name(), k, p.pool.clock().now_ms()))
                .collect();
            json!({"name": p.name(), "dialect": p.spec.dialect, "keys": keys})
        })
        .collect();
    Json(json!({
        "providers": providers,
        "keys_file": live.keys_path().map(|p| p.display().to_string()),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddKeys {
    provider: String,
    keys: Vec<String>,
    #[serde(default)]
    label: Option<String>,
}

fn change_failed(error: ChangeError) -> Response {
    match error {
        ChangeError::Invalid(message) => {
            problem(StatusCode::BAD_REQUEST, "invalid_request_error", message)
        }
        ChangeError::NotFound(message) => problem(StatusCode::NOT_FOUND, "not_found", message),
        ChangeError::Failed(message) => problem(StatusCode::CONFLICT, "change_refused", message),
        ChangeError::KeysFileConflict(message) => {
            problem(StatusCode::CONFLICT, "keys_file_conflict", message)
        }
    }
}

async fn add_keys(
    State(live): State<Arc<Live>>,
    body: Result<Json<AddKeys>, JsonRejection>,
) -> Response {
    const EXPECTED: &str =
        r#"expected JSON {"provider": "NAME", "keys": ["KEY", ...], "label": "optional"}"#;
    let request = match body {
        Ok(Json(request)) => request,
        // The rejection's text could quote the body, which holds keys (even
        // an unknown field's name could be a key pasted in the wrong place).
        Err(JsonRejection::JsonDataError(error)) if error.body_text().contains("unknown field") => {
            return problem(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!(
                    "unknown field: only `provider`, `keys` and `label` are accepted; {EXPECTED}"
                ),
            )
        }
        Err(_) => return problem(StatusCode::BAD_REQUEST, "invalid_request_error", EXPECTED),
    };
    match live
        .add_keys(&request.provider, &request.keys, request.label.as_deref())
        .await
    {
        Ok(changed) => (StatusCode::CREATED, Json(json!(changed))).into_response(),
        Err(error) => change_failed(error),
    }
}

/// A query string that must fit `T` exactly: an unknown parameter (a
/// misspelt `provider`, which would widen a change to every provider) is
/// refused with 400 in the admin error shape.
struct Strict<T>(T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Strict<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Strict(value)),
            Err(_) => Err(problem(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "unknown or malformed query parameter: only `provider` (key calls), and `limit` and `virtual_key` (/admin/requests) are accepted",
            )),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Only {
    provider: Option<String>,
}

async fn remove_key(
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
    Strict(only): Strict<Only>,
) -> Response {
    match live.remove_key(&id, only.provider.as_deref()).await {
        Ok(changed) => Json(json!(changed)).into_response(),
        Err(error) => change_failed(error),
    }
}

async fn disable(
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
    Strict(only): Strict<Only>,
) -> Response {
    set_enabled(&live, &id, only.provider.as_deref(), false).await
}

async fn enable(
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
    Strict(only): Strict<Only>,
) -> Response {
    set_enabled(&live, &id, only.provider.as_deref(), true).await
}

async fn set_enabled(live: &Live, id: &str, only: Option<&str>, enabled: bool) -> Response {
    let gateway = live.gateway();
    let mut changed = Vec::new();
    for provider in gateway.registry.all() {
        if only.is_some_and(|name| {
            gateway
                .registry
                .get(name)
                .is_none_or(|p| !Arc::ptr_eq(p, provider))
        }) {
            continue;
        }
        let found = if enabled {
            provider.pool.reinstate(id).await
        } else {
            provider.pool.disable(id).await
        };
        if found {
            if let Some(key) = provider.pool.snapshot().iter().find(|k| k.id == id) {
                changed.push(key_view(
                    provider.name(),
                    key,
                    provider.pool.clock().now_ms(),
                ));
            }
        }
    }
    if changed.is_empty() {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no key with id `{id}`"),
        );
    }
    tracing::info!(key_id = %id, enabled, "key {} by an operator", if enabled { "enabled" } else { "disabled" });
    Json(json!({"keys": changed})).into_response()
}

async fn check(State(live): State<Arc<Live>>, Strict(only): Strict<Only>) -> Response {
    let gateway = live.gateway();
    if let Some(name) = &only.provider {
        if gateway.registry.get(name).is_none() {
            return problem(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("unknown provider `{name}`"),
            );
        }
    }
    let results = check_all(
        &gateway.registry,
        &gateway.caller,
        only.provider.as_deref(),
        |_| {},
    )
    .await;
    Json(json!({"checks": results})).into_response()
}

/// Checks one key (in every provider that has it, or only `provider`'s).
async fn check_one(
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
    Strict(only): Strict<Only>,
) -> Response {
    let gateway = live.gateway();
    let mut results = Vec::new();
    for provider in crate::check::to_check(&gateway.registry, only.provider.as_deref()) {
        if let Some(key) = provider.pool.keys().find(|k| k.fingerprint().id() == id) {
            results.push(check_key(&gateway.caller, provider, key).await);
        }
    }
    if results.is_empty() {
        return problem(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no key with id `{id}`"),
        );
    }
    Json(json!({"checks": results})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    limit: Option<usize>,
    /// Only this virtual key's requests (by id).
    virtual_key: Option<String>,
}

async fn requests(
    State(requests): State<Arc<RequestLog>>,
    Strict(limit): Strict<Limit>,
) -> Json<Value> {
    let key = limit.virtual_key.as_deref();
    let limit = limit.limit.unwrap_or(100).min(RequestLog::CAPACITY);
    Json(json!({"requests": requests.last_of(limit, key)}))
}

/// `GET /metrics`: Prometheus text. Key state is read from the pools at
/// scrape time, so a removed key disappears with its pool.
pub async fn metrics(State(live): State<Arc<Live>>) -> Response {
    use std::fmt::Write;
    let handle = super::observe::metrics_handle();
    handle.run_upkeep();
    let mut text = handle.render();
    let gateway = live.gateway();
    let mut state = String::from(
        "# HELP keyrelay_key_state 1 for the state each key is in (available, cooling, disabled).\n# TYPE keyrelay_key_state gauge\n",
    );
    let mut cooldown = String::from(
        "# HELP keyrelay_key_cooldown_seconds Seconds until a cooling key may be used again (key-wide).\n# TYPE keyrelay_key_cooldown_seconds gauge\n",
    );
    let mut scoped = String::from(
        "# HELP keyrelay_key_model_cooldown_seconds Seconds until a key may serve one model again.\n# TYPE keyrelay_key_model_cooldown_seconds gauge\n",
    );
    for provider in gateway
        .registry
        .all()
        .iter()
        .filter(|p| p.spec.needs_keys())
    {
        for key in provider.pool.snapshot() {
            let labels = format!(
                "provider=\"{}\",key_id=\"{}\",key=\"{}\"",
                label_text(provider.name()),
                key.id,
                label_text(key.key.as_str())
            );
            for name in ["available", "cooling", "disabled"] {
                let on = serde_json::to_value(key.state)
                    .ok()
                    .and_then(|v| v.as_str().map(|s| s == name))
                    == Some(true);
                let _ = writeln!(
                    state,
                    "keyrelay_key_state{{{labels},state=\"{name}\"}} {}",
                    u8::from(on)
                );
            }
            let _ = writeln!(
                cooldown,
                "keyrelay_key_cooldown_seconds{{{labels}}} {}",
                key.cooldown_remaining_ms as f64 / 1000.0
            );
            for model in &key.model_cooldowns {
                let _ = writeln!(
                    scoped,
                    "keyrelay_key_model_cooldown_seconds{{{labels},model=\"{}\"}} {}",
                    label_text(&model.model),
                    model.remaining_ms as f64 / 1000.0
                );
            }
        }
    }
    text.push_str(&state);
    text.push_str(&cooldown);
    text.push_str(&scoped);
    text.push_str(&super::spend::metrics_text(live.team(), label_text));
    (
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn reload(State(live): State<Arc<Live>>) -> Response {
    match live.reload().await {
        Ok(reloaded) => {
            Json(json!({"reloaded": true, "providers": reloaded.providers, "keys": reloaded.keys}))
                .into_response()
        }
        Err(error) => change_failed(error),
    }
}

//! `/admin/virtual-keys`: a team's keys for the people who run keyrelay.
//! A key's secret is in one answer only, the one that creates it (marked
//! `no-store`); everything else shows its id, name and figures.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::{HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::problem::problem;
use super::Ops;
use crate::gateway::Live;
use crate::registry::Registry;
use crate::store::team::{TeamError, VirtualKey};
use crate::team::book::{self, BookError};
use crate::team::spec::{Context, KeyChange, SpecError};
use crate::team::Team;

pub fn router() -> Router<Ops> {
    Router::new()
        .route("/virtual-keys", get(list).post(create))
        .route("/virtual-keys/{id}", get(show).patch(change).delete(delete))
        .route("/virtual-keys/{id}/disable", post(disable))
        .route("/virtual-keys/{id}/enable", post(enable))
}

/// Every name a route may put before `@`: providers, their other names, and
/// local servers this gateway leaves out.
pub fn route_names(registry: &Registry) -> Vec<String> {
    let specs = registry
        .all()
        .iter()
        .map(|p| &p.spec)
        .chain(registry.all_off());
    specs
        .flat_map(|spec| std::iter::once(&spec.name).chain(&spec.aliases))
        .cloned()
        .collect()
}

fn refused(error: BookError) -> Response {
    match &error {
        BookError::Spec(spec) => problem(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("{spec}; nothing was changed"),
        ),
        BookError::NotFound(_) => problem(StatusCode::NOT_FOUND, "not_found", error.to_string()),
        BookError::NameTaken(_) => problem(StatusCode::CONFLICT, "name_taken", error.to_string()),
        BookError::Store(_) | BookError::NoRandomness(_) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            error.to_string(),
        ),
    }
}

/// The change a JSON body asks for; a body that is not JSON is refused
/// without quoting it.
fn change_of(live: &Live, bytes: &Bytes, creating: bool) -> Result<KeyChange, BookError> {
    let body: Value = serde_json::from_slice(bytes).map_err(|_| SpecError {
        field: "body".into(),
        message: format!("expected a JSON object with {}", crate::team::spec::FIELDS),
    })?;
    let providers = route_names(&live.gateway().registry);
    let cx = Context {
        providers: &providers,
        now_ms: live.team().clock().now_ms(),
    };
    Ok(KeyChange::from_json(&body, creating, &cx)?)
}

/// Longest wait for the store in an admin call: past it the call is a
/// `503`, and what it would have changed is either whole or not there.
const ADMIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// `call`, or a timeout after [`ADMIN_TIMEOUT`].
async fn within<T, E: From<TeamError>>(
    call: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    tokio::time::timeout(ADMIN_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| Err(TeamError::TimedOut(ADMIN_TIMEOUT.as_millis()).into()))
}

/// The views of `keys`, with their spend this day, week and month.
async fn views(team: &Team, keys: &[VirtualKey]) -> Result<Vec<Value>, TeamError> {
    // What this replica spent a moment ago is written first.
    team.flush().await;
    let now_ms = team.clock().now_ms();
    let spend = within(book::window_spend(team.store().as_ref(), now_ms)).await?;
    Ok(keys
        .iter()
        .map(|key| {
            let mut view = book::view(
                key,
                &spend.get(&key.id).copied().unwrap_or_default(),
                now_ms,
            );
            if let Some(grant) = team.grant(&key.id) {
                let reading = grant.meter.reading(now_ms);
                view["in_flight"] = json!(reading.in_flight);
                view["requests_last_minute"] = json!(reading.requests_last_minute);
                view["tokens_last_minute"] = json!(reading.tokens_last_minute);
            }
            view
        })
        .collect())
}

async fn list(State(live): State<Arc<Live>>) -> Response {
    let team = live.team();
    let keys = match within(team.store().keys()).await {
        Ok(keys) => keys,
        Err(error) => return refused(error.into()),
    };
    match views(team, &keys).await {
        Ok(views) => Json(json!({
            "virtual_keys": views,
            "prices_taken": crate::team::prices::TAKEN,
        }))
        .into_response(),
        Err(error) => refused(error.into()),
    }
}

async fn show(State(live): State<Arc<Live>>, Path(id): Path<String>) -> Response {
    let team = live.team();
    let key = match within(book::find(team.store().as_ref(), &id)).await {
        Ok(key) => key,
        Err(error) => return refused(error),
    };
    match views(team, std::slice::from_ref(&key)).await {
        Ok(mut views) => Json(views.remove(0)).into_response(),
        Err(error) => refused(error.into()),
    }
}

async fn create(State(live): State<Arc<Live>>, body: Bytes) -> Response {
    let change = match change_of(&live, &body, true) {
        Ok(change) => change,
        Err(error) => return refused(error),
    };
    let team = live.team();
    let made = match within(book::create(
        team.store().as_ref(),
        change,
        team.clock().now_ms(),
    ))
    .await
    {
        Ok(made) => made,
        Err(error) => return refused(error),
    };
    team.learned(made.key.clone());
    let now_ms = team.clock().now_ms();
    let mut response = (
        StatusCode::CREATED,
        Json(json!({
            "id": made.key.id,
            "key": made.secret.reveal(),
            "virtual_key": book::view(&made.key, &Default::default(), now_ms),
            "note": "the key is shown this once: keyrelay keeps only its hash",
        })),
    )
        .into_response();
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}

async fn change(State(live): State<Arc<Live>>, Path(id): Path<String>, body: Bytes) -> Response {
    let change = match change_of(&live, &body, false) {
        Ok(change) => change,
        Err(error) => return refused(error),
    };
    apply(&live, &id, change).await
}

async fn apply(live: &Live, id: &str, change: KeyChange) -> Response {
    let team = live.team();
    match within(book::change(
        team.store().as_ref(),
        id,
        change,
        team.clock().now_ms(),
    ))
    .await
    {
        Ok(key) => {
            team.learned(key.clone());
            match views(team, std::slice::from_ref(&key)).await {
                Ok(mut views) => Json(views.remove(0)).into_response(),
                Err(error) => refused(error.into()),
            }
        }
        Err(error) => refused(error),
    }
}

async fn disable(State(live): State<Arc<Live>>, Path(id): Path<String>) -> Response {
    let change = KeyChange {
        disabled: Some(true),
        ..KeyChange::default()
    };
    apply(&live, &id, change).await
}

async fn enable(State(live): State<Arc<Live>>, Path(id): Path<String>) -> Response {
    let change = KeyChange {
        disabled: Some(false),
        ..KeyChange::default()
    };
    apply(&live, &id, change).await
}

async fn delete(State(live): State<Arc<Live>>, Path(id): Path<String>) -> Response {
    let team = live.team();
    match within(book::delete(team.store().as_ref(), &id)).await {
        Ok(key) => {
            team.forgot(&key.id);
            let now_ms = team.clock().now_ms();
            Json(json!({"deleted": book::view(&key, &Default::default(), now_ms)})).into_response()
        }
        Err(error) => refused(error),
    }
}

//! Operations: what the people who run keyrelay see and do — the admin API
//! (`/admin`), Prometheus `/metrics`, the dashboard (`/ui`), and the record
//! of every proxied request ([`observe`]: the request log, the access log
//! and the metrics), with its spans when tracing is on ([`trace`]).

pub mod admin;
pub mod observe;
mod problem;
pub mod requests;
pub mod spend;
pub mod trace;
pub mod ui;
pub mod vkeys;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::middleware;
use axum::routing::get;
use axum::Router;
use keypool::Clock;

use crate::gateway::Live;
use requests::RequestLog;

/// What operations need: the running gateway, the request log, and the
/// wall clock records are stamped with.
#[derive(Clone)]
pub struct Ops {
    pub live: Arc<Live>,
    pub requests: Arc<RequestLog>,
    pub clock: Clock,
}

impl Ops {
    pub fn new(live: Arc<Live>) -> Ops {
        Ops {
            live,
            requests: Arc::new(RequestLog::new()),
            clock: Clock::system(),
        }
    }
}

impl FromRef<Ops> for Arc<Live> {
    fn from_ref(ops: &Ops) -> Self {
        ops.live.clone()
    }
}

impl FromRef<Ops> for Arc<RequestLog> {
    fn from_ref(ops: &Ops) -> Self {
        ops.requests.clone()
    }
}

/// `/admin`, `/metrics` and `/ui`. The admin API and `/metrics` check admin
/// tokens themselves.
pub fn router(ops: &Ops) -> Router<Ops> {
    Router::new()
        .nest("/admin", admin::router(ops.live.clone()))
        .route(
            "/metrics",
            get(admin::metrics).layer(middleware::from_fn_with_state(
                ops.live.clone(),
                admin::require_admin,
            )),
        )
        .merge(ui::router())
}

/// Compares secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token of an `Authorization: Bearer TOKEN` value: the scheme in any
/// case (RFC 9110 §11.1: `bearer`, `BEARER`), any spaces or tabs around the
/// token trimmed. `None` for another scheme or no token.
pub fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests;

//! Where key state lives beyond one process (DESIGN §1 item 5): SQLite on one
//! machine (the default), Redis across hosts, or memory only.
//!
//! A persistent backend never serves the pools directly: it sits behind
//! [`ResilientStore`], which keeps every update in memory first, writes behind
//! through a coalescing queue, bounds every backend call with a short timeout and
//! resyncs the backend when it answers again. So a slow, locked, corrupt or
//! unreachable store costs sharing, never a request.
//!
//! Stores hold fingerprint ids, health and counters only, never key material.

mod backend;
mod error;
pub mod redis;
mod resilient;
mod spec;
pub mod sqlite;
pub mod team;
pub mod warn;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use keypool::{MemoryStore, StateStore};

pub use backend::{Backend, BackendFuture, KeyDelta};
pub use error::{BackendError, OpenError};
pub use resilient::{ResilientOptions, ResilientStore};
pub use spec::{StateSettings, StateSpec};
pub use team::{MemoryTeamStore, TeamStore};
use warn::WarnLimiter;

use crate::env::Env;

/// SQLite's own wait for another process's write lock. Shorter than the
/// resilient timeout, so contention ends in a clean "busy" error (nothing
/// written, safe to retry) rather than a timeout whose outcome is unknown.
fn sqlite_busy_timeout(call_timeout: Duration) -> Duration {
    call_timeout.mul_f64(0.8)
}

/// Opens the store `settings` choose (the default: SQLite under the user's
/// state directory). A persistent store comes wrapped in [`ResilientStore`];
/// it connects in the background, so this never waits for it. Needs a tokio
/// runtime for the write-behind task.
pub fn open(settings: &StateSettings, env: &dyn Env) -> Result<Arc<dyn StateStore>, OpenError> {
    Ok(open_stores(settings, env)?.keys)
}

/// Both sides of one store: key state for the pools, and virtual keys and
/// spend for a team's gateway (the same SQLite file or Redis server).
#[derive(Clone)]
pub struct Stores {
    pub keys: Arc<dyn StateStore>,
    pub team: Arc<dyn TeamStore>,
    /// One store that fails warns once per interval, whichever side notices.
    pub warnings: Arc<WarnLimiter>,
}

/// Opens the store `settings` choose, as [`open`] does, with its team side.
pub fn open_stores(settings: &StateSettings, env: &dyn Env) -> Result<Stores, OpenError> {
    let spec = settings.store.clone().unwrap_or(StateSpec::Sqlite(None));
    let defaults = ResilientOptions::default();
    let warnings = Arc::new(WarnLimiter::new(defaults.warn_every));
    let options = ResilientOptions {
        timeout: Duration::from_millis(settings.timeout_ms.max(1)),
        warnings: Some(warnings.clone()),
        ..defaults
    };
    let memory = || Stores {
        keys: Arc::new(MemoryStore::new()),
        team: Arc::new(MemoryTeamStore::new()),
        warnings: warnings.clone(),
    };
    let (backend, team): (Arc<dyn Backend>, Arc<dyn TeamStore>) = match spec {
        StateSpec::Memory => {
            tracing::info!("key state kept in this process only (state store: memory)");
            return Ok(memory());
        }
        StateSpec::Sqlite(path) => {
            let Some(path) = spec::sqlite_file(path.as_deref(), env) else {
                tracing::warn!(
                    "neither XDG_STATE_HOME nor HOME is set: key state kept in memory only; pass --state sqlite:PATH to persist it"
                );
                return Ok(memory());
            };
            let store = Arc::new(sqlite::SqliteStore::new(
                path,
                sqlite_busy_timeout(options.timeout),
            )?);
            (store.clone(), store)
        }
        StateSpec::Redis(url) => {
            let store = Arc::new(self::redis::RedisStore::new(&url)?);
            (store.clone(), store)
        }
    };
    tracing::info!("key state in {}", backend.describe());
    Ok(Stores {
        keys: Arc::new(ResilientStore::start(backend, options)?),
        team,
        warnings,
    })
}

//! Key state in Redis, shared by replicas on several hosts.
//!
//! Layout (`{POOL}` is literal braces around the pool name: a Cluster hash
//! tag, so one pool's keys share a slot and its scripts may touch them all):
//! - `keyrelay:schema` — the layout version (`1`).
//! - `keyrelay:{POOL}:ids` — set of the pool's key fingerprint ids.
//! - `keyrelay:{POOL}:key:ID` — hash: `cooling_until_ms`, `cooling_class`,
//!   `disabled_at_ms`, `disabled_reason`, `reinstated_at_ms`, `requests`, one
//!   counter per outcome class (`success`, `rate_limited`, …), `last_class`,
//!   `last_reason`, `last_used_ms`. Times are Unix ms.
//! - `keyrelay:{POOL}:cooling:ID` — the cooling class, expiring with the cooldown.
//! - `keyrelay:{POOL}:models:ID` — hash of the key's per-model cooldowns:
//!   field MODEL, value `UNTIL_MS CLASS`; expires with the last of them.
//! - `keyrelay:{POOL}:usage:ID` — hash of the key's budget usage buckets:
//!   `SPAN:BUCKET:r` requests, `SPAN:BUCKET:t` tokens (counters),
//!   `SPAN:BUCKET:e` when the bucket leaves its window; expires with the last.
//!
//! The last two were added without a layout version change: older builds
//! never read them.
//!
//! Writes are one Lua script call per batch (merge and increments atomic in
//! Redis); a pool's load is one script call.

mod record;
mod team;

use std::time::Duration;

use keypool::KeyRecord;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use tokio::sync::Mutex;

use super::backend::{Backend, BackendFuture, KeyDelta};
use super::error::{BackendError, OpenError};
pub use team::{counter_key, spend_key};

/// The layout version this build writes.
pub const SCHEMA_VERSION: i64 = 1;
const SCHEMA_KEY: &str = "keyrelay:schema";

/// How long connecting may take; calls themselves are bounded by the caller
/// ([`super::ResilientStore`]'s timeout).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A Redis state store over a [`ConnectionManager`], connected lazily and
/// reconnected after connection failures, so a server that is down at start or
/// restarts later is an error per call, never a crash.
pub struct RedisStore {
    client: Client,
    target: String,
    connection: Mutex<Option<ConnectionManager>>,
    apply: Script,
    load: Script,
    /// Virtual keys and spend (see [`team`]).
    scripts: team::Scripts,
}

impl RedisStore {
    /// Parses `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`); does not connect yet.
    pub fn new(url: &str) -> Result<Self, OpenError> {
        let client = Client::open(url).map_err(OpenError::RedisUrl)?;
        let info = client.get_connection_info();
        let target = format!("{}/{}", info.addr(), info.redis_settings().db());
        Ok(RedisStore {
            client,
            target,
            connection: Mutex::new(None),
            apply: Script::new(include_str!("apply.lua")),
            load: Script::new(include_str!("load.lua")),
            scripts: team::Scripts::new(),
        })
    }

    /// The pool's set of ids.
    pub fn ids_key(pool: &str) -> String {
        format!("keyrelay:{{{pool}}}:ids")
    }

    /// The hash of one key's record.
    pub fn record_key(pool: &str, id: &str) -> String {
        format!("keyrelay:{{{pool}}}:key:{id}")
    }

    /// The hash of the key's per-model cooldowns.
    pub fn models_key(pool: &str, id: &str) -> String {
        format!("keyrelay:{{{pool}}}:models:{id}")
    }

    /// The hash of the key's budget usage buckets.
    pub fn usage_key(pool: &str, id: &str) -> String {
        format!("keyrelay:{{{pool}}}:usage:{id}")
    }

    /// The marker that exists while the key cools.
    pub fn cooling_key(pool: &str, id: &str) -> String {
        format!("keyrelay:{{{pool}}}:cooling:{id}")
    }

    async fn connection(&self) -> Result<ConnectionManager, BackendError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        // One attempt per call: the resilient wrapper decides when to try again.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_number_of_retries(0);
        let mut connection =
            ConnectionManager::new_with_config(self.client.clone(), config).await?;
        let found: Option<i64> = redis::cmd("GET")
            .arg(SCHEMA_KEY)
            .query_async(&mut connection)
            .await?;
        if let Some(found) = found.filter(|v| *v > SCHEMA_VERSION) {
            return Err(BackendError::NewerSchema {
                found,
                known: SCHEMA_VERSION,
            });
        }
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Drops the connection after an I/O failure, so the next call starts a
    /// fresh one instead of waiting on the manager's own reconnect schedule.
    async fn forget_on_failure<T>(
        &self,
        result: Result<T, redis::RedisError>,
    ) -> Result<T, BackendError> {
        if let Err(err) = &result {
            if err.is_io_error()
                || err.is_connection_dropped()
                || err.is_connection_refusal()
                || err.is_timeout()
            {
                *self.connection.lock().await = None;
            }
        }
        Ok(result?)
    }

    async fn load_pool(&self, pool: &str) -> Result<Vec<KeyRecord>, BackendError> {
        let mut connection = self.connection().await?;
        let rows: Result<Vec<Vec<String>>, _> = self
            .load
            .key(Self::ids_key(pool))
            .arg(Self::record_key(pool, ""))
            .arg(Self::models_key(pool, ""))
            .arg(Self::usage_key(pool, ""))
            .invoke_async(&mut connection)
            .await;
        let rows = self.forget_on_failure(rows).await?;
        rows.iter().map(|row| record::parse(row)).collect()
    }

    async fn apply_all(&self, deltas: &[KeyDelta]) -> Result<(), BackendError> {
        let mut connection = self.connection().await?;
        let result = if deltas.is_empty() {
            redis::cmd("PING")
                .query_async::<String>(&mut connection)
                .await
                .map(drop)
        } else {
            let mut call = self.apply.key(SCHEMA_KEY);
            call.arg(SCHEMA_VERSION);
            for delta in deltas {
                call.key(Self::ids_key(&delta.pool))
                    .key(Self::record_key(&delta.pool, &delta.record.id))
                    .key(Self::cooling_key(&delta.pool, &delta.record.id))
                    .key(Self::models_key(&delta.pool, &delta.record.id))
                    .key(Self::usage_key(&delta.pool, &delta.record.id));
                for value in record::args(delta) {
                    call.arg(value);
                }
            }
            call.invoke_async::<i64>(&mut connection).await.map(drop)
        };
        self.forget_on_failure(result).await
    }
}

impl Backend for RedisStore {
    fn describe(&self) -> String {
        format!("redis {}", self.target)
    }

    fn load<'a>(&'a self, pool: &'a str) -> BackendFuture<'a, Vec<KeyRecord>> {
        Box::pin(self.load_pool(pool))
    }

    fn apply<'a>(&'a self, deltas: &'a [KeyDelta]) -> BackendFuture<'a, ()> {
        Box::pin(self.apply_all(deltas))
    }
}

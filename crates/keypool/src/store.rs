//! Where key health lives beyond one pool: the `StateStore` trait and the
//! in-memory store.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::budget::UsageBucket;
use crate::health::KeyHealth;
use crate::record::{KeyRecord, KeyUpdate, RecordChange};

/// A boxed future, so stores can be used as `dyn StateStore`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    #[error("state store data is corrupt: {0}")]
    Corrupt(String),
}

/// Key health shared beyond one pool. Stores hold fingerprint ids, health and
/// counters, never keys. Implementations must merge, not overwrite, by the
/// rules of [`KeyRecord::absorb`]: two processes reporting on one key at once
/// both count, and the later cooldown deadline wins.
pub trait StateStore: Send + Sync {
    /// Every record the store has for `pool`.
    fn load<'a>(&'a self, pool: &'a str) -> StoreFuture<'a, Vec<KeyRecord>>;
    /// Merges one attempt's result into the key's record.
    fn record<'a>(&'a self, pool: &'a str, update: KeyUpdate<'a>) -> StoreFuture<'a, ()>;
    /// Merges a health change that is not an attempt (a re-check reinstating a key).
    fn merge_health<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        health: &'a KeyHealth,
    ) -> StoreFuture<'a, ()>;
    /// Adds usage counted against a key's budget (requests when sent,
    /// tokens when the answer reports them). Buckets are counters: they add.
    fn record_usage<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        usage: &'a [UsageBucket],
    ) -> StoreFuture<'a, ()>;
    /// Waits (briefly, bounded by the store) until updates written behind
    /// have reached the backend; called before a short-lived process exits.
    fn flush(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Keeps records in this process only. The default for tests and the fallback
/// when a persistent store fails; two pools sharing one `MemoryStore` behave
/// like two processes sharing a persistent store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    pools: Mutex<HashMap<String, HashMap<String, KeyRecord>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// Merges `change` into the key's record ([`KeyRecord::absorb`]).
    fn absorb(&self, pool: &str, id: &str, change: &RecordChange<'_>) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        // Look up before inserting: the common case allocates nothing.
        if let Some(record) = pools.get_mut(pool).and_then(|p| p.get_mut(id)) {
            record.absorb(change);
            return;
        }
        pools
            .entry(pool.to_owned())
            .or_default()
            .entry(id.to_owned())
            .or_insert_with(|| KeyRecord {
                id: id.to_owned(),
                ..KeyRecord::default()
            })
            .absorb(change);
    }
}

impl StateStore for MemoryStore {
    fn load<'a>(&'a self, pool: &'a str) -> StoreFuture<'a, Vec<KeyRecord>> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let records = pools
            .get(pool)
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default();
        Box::pin(async move { Ok(records) })
    }

    fn record<'a>(&'a self, pool: &'a str, update: KeyUpdate<'a>) -> StoreFuture<'a, ()> {
        self.absorb(pool, update.id, &RecordChange::attempt(&update));
        Box::pin(async { Ok(()) })
    }

    fn merge_health<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        health: &'a KeyHealth,
    ) -> StoreFuture<'a, ()> {
        self.absorb(pool, id, &RecordChange::health_only(health));
        Box::pin(async { Ok(()) })
    }

    fn record_usage<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        usage: &'a [UsageBucket],
    ) -> StoreFuture<'a, ()> {
        let unchanged = KeyHealth::default();
        self.absorb(pool, id, &RecordChange::usage_only(&unchanged, usage));
        Box::pin(async { Ok(()) })
    }
}

//! Where key health lives beyond one pool: the `StateStore` trait and the
//! in-memory store.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::health::{KeyHealth, KeyRecord};
use crate::outcome::OutcomeClass;

/// A boxed future, so stores can be used as `dyn StateStore`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    #[error("state store data is corrupt: {0}")]
    Corrupt(String),
}

/// One attempt's effect on a key, as sent to a store.
#[derive(Debug, Clone)]
pub struct KeyUpdate<'a> {
    pub id: &'a str,
    /// The key's health after the attempt; the store merges it in
    /// ([`KeyHealth::merge`]) so concurrent writers never lose a deadline.
    pub health: &'a KeyHealth,
    pub class: OutcomeClass,
    pub reason: Option<&'a str>,
    pub at_ms: u64,
}

/// Key health shared beyond one pool. Stores hold fingerprint ids, health and
/// counters, never keys. Implementations must merge, not overwrite: two
/// processes reporting on one key at once both count, and the later cooldown
/// deadline wins.
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

    fn with_record<T>(&self, pool: &str, id: &str, f: impl FnOnce(&mut KeyRecord) -> T) -> T {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let record = pools
            .entry(pool.to_owned())
            .or_default()
            .entry(id.to_owned())
            .or_insert_with(|| KeyRecord {
                id: id.to_owned(),
                ..KeyRecord::default()
            });
        f(record)
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
        self.with_record(pool, update.id, |record| {
            record.health.merge(update.health);
            record.requests += 1;
            record.outcomes.add(update.class, 1);
            record.last_class = Some(update.class);
            record.last_reason = update.reason.map(str::to_owned);
            record.last_used_ms = record.last_used_ms.max(update.at_ms);
        });
        Box::pin(async { Ok(()) })
    }

    fn merge_health<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        health: &'a KeyHealth,
    ) -> StoreFuture<'a, ()> {
        self.with_record(pool, id, |record| record.health.merge(health));
        Box::pin(async { Ok(()) })
    }
}

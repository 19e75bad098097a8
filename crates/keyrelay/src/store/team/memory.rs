//! Virtual keys and spend in this process only: the `memory` store, and
//! two gateways in one test process sharing one, as replicas share Redis.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use super::{
    Dimension, SpendBatch, SpendCounts, SpendRow, TeamError, TeamFuture, TeamStore, VirtualKey,
};

#[derive(Debug, Default)]
pub struct MemoryTeamStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: BTreeMap<String, VirtualKey>,
    version: u64,
    spend: BTreeMap<(String, Dimension, String), SpendCounts>,
    /// Value and expiry (Unix ms).
    counters: HashMap<String, (u64, u64)>,
}

impl MemoryTeamStore {
    pub fn new() -> Self {
        MemoryTeamStore::default()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Plain data, consistent after any panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn name_taken(&self, name: &str, by_other_than: &str) -> bool {
        self.keys
            .values()
            .any(|k| k.name == name && k.id != by_other_than)
    }
}

impl TeamStore for MemoryTeamStore {
    fn create_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        let result = {
            let mut inner = self.inner();
            if inner.name_taken(&key.name, "") || inner.keys.contains_key(&key.id) {
                Err(TeamError::NameTaken(key.name.clone()))
            } else {
                inner.keys.insert(key.id.clone(), key.clone());
                inner.version += 1;
                Ok(())
            }
        };
        Box::pin(async move { result })
    }

    fn replace_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        let result = {
            let mut inner = self.inner();
            if !inner.keys.contains_key(&key.id) {
                Err(TeamError::NotFound(key.id.clone()))
            } else if inner.name_taken(&key.name, &key.id) {
                Err(TeamError::NameTaken(key.name.clone()))
            } else {
                inner.keys.insert(key.id.clone(), key.clone());
                inner.version += 1;
                Ok(())
            }
        };
        Box::pin(async move { result })
    }

    fn delete_key<'a>(&'a self, id: &'a str) -> TeamFuture<'a, ()> {
        let result = {
            let mut inner = self.inner();
            match inner.keys.remove(id) {
                Some(_) => {
                    inner.version += 1;
                    Ok(())
                }
                None => Err(TeamError::NotFound(id.to_owned())),
            }
        };
        Box::pin(async move { result })
    }

    fn keys(&self) -> TeamFuture<'_, Vec<VirtualKey>> {
        let keys = self.inner().keys.values().cloned().collect();
        Box::pin(async move { Ok(keys) })
    }

    fn key_by_hash<'a>(&'a self, hash: &'a str) -> TeamFuture<'a, Option<VirtualKey>> {
        let key = self.inner().keys.values().find(|k| k.hash == hash).cloned();
        Box::pin(async move { Ok(key) })
    }

    fn keys_version(&self) -> TeamFuture<'_, u64> {
        let version = self.inner().version;
        Box::pin(async move { Ok(version) })
    }

    fn add_spend<'a>(&'a self, batch: &'a SpendBatch) -> TeamFuture<'a, ()> {
        {
            let mut inner = self.inner();
            for row in &batch.rows {
                inner
                    .spend
                    .entry((row.day.clone(), row.dimension, row.name.clone()))
                    .or_default()
                    .add(&row.counts);
            }
            for counter in &batch.counters {
                let slot = inner
                    .counters
                    .entry(counter.name.clone())
                    .or_insert((0, counter.expires_at_ms));
                slot.0 = slot.0.saturating_add(counter.add);
                slot.1 = slot.1.max(counter.expires_at_ms);
            }
        }
        Box::pin(async { Ok(()) })
    }

    fn counters<'a>(&'a self, names: &'a [String], now_ms: u64) -> TeamFuture<'a, Vec<u64>> {
        let values = {
            let mut inner = self.inner();
            inner.counters.retain(|_, (_, expires)| *expires > now_ms);
            names
                .iter()
                .map(|n| inner.counters.get(n).map_or(0, |(v, _)| *v))
                .collect()
        };
        Box::pin(async move { Ok(values) })
    }

    fn spend<'a>(&'a self, from: &'a str, to: &'a str) -> TeamFuture<'a, Vec<SpendRow>> {
        let rows = self
            .inner()
            .spend
            .iter()
            .filter(|((day, _, _), _)| day.as_str() >= from && day.as_str() <= to)
            .map(|((day, dimension, name), counts)| SpendRow {
                day: day.clone(),
                dimension: *dimension,
                name: name.clone(),
                counts: *counts,
            })
            .collect();
        Box::pin(async move { Ok(rows) })
    }
}

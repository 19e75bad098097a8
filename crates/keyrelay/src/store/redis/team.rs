//! Virtual keys and spend in Redis. Every key carries the hash tag
//! `{team}`, so on a Redis Cluster they share one slot and a script may
//! touch them all:
//!
//! - `keyrelay:{team}:vkeys` — hash: id → the key's JSON record (the hash
//!   of its secret, never the secret);
//! - `keyrelay:{team}:vkey-names`, `keyrelay:{team}:vkey-hashes` — hashes:
//!   name → id and secret hash → id (both unique);
//! - `keyrelay:{team}:vkeys-version` — bumped by every change to a key;
//! - `keyrelay:{team}:spend:DAY` — hash per UTC day: field
//!   `DIMENSION|COUNTER|NAME` → integer (counters that add), kept 400 days
//!   after its last write;
//! - `keyrelay:{team}:counter:NAME` — budget and rate counters, expiring
//!   with their window.

use redis::Script;

use super::RedisStore;
use crate::store::error::BackendError;
use crate::store::team::{
    Dimension, SpendBatch, SpendCounts, SpendRow, TeamError, TeamFuture, TeamStore, VirtualKey,
};

const KEYS: &str = "keyrelay:{team}:vkeys";
const NAMES: &str = "keyrelay:{team}:vkey-names";
const HASHES: &str = "keyrelay:{team}:vkey-hashes";
const VERSION: &str = "keyrelay:{team}:vkeys-version";
/// How long a day of spend is kept after its last write: reports reach back a year.
const SPEND_KEEP_SECS: u64 = 400 * 24 * 3600;

/// The day hash of spend (`YYYY-MM-DD`).
pub fn spend_key(day: &str) -> String {
    format!("keyrelay:{{team}}:spend:{day}")
}

/// A budget or rate counter.
pub fn counter_key(name: &str) -> String {
    format!("keyrelay:{{team}}:counter:{name}")
}

/// The team store's scripts, loaded once per store.
pub(super) struct Scripts {
    write_key: Script,
    delete_key: Script,
    key_by_hash: Script,
    add_spend: Script,
}

impl Scripts {
    pub(super) fn new() -> Scripts {
        Scripts {
            write_key: Script::new(include_str!("team/write_key.lua")),
            delete_key: Script::new(include_str!("team/delete_key.lua")),
            key_by_hash: Script::new(include_str!("team/key_by_hash.lua")),
            add_spend: Script::new(include_str!("team/add_spend.lua")),
        }
    }
}

fn malformed(what: &str) -> BackendError {
    BackendError::Malformed(format!("a virtual key record is not valid JSON ({what})"))
}

fn parse_key(json: &str) -> Result<VirtualKey, BackendError> {
    serde_json::from_str(json).map_err(|e| malformed(&e.to_string()))
}

impl RedisStore {
    async fn write_key(&self, key: &VirtualKey, mode: &str) -> Result<(), TeamError> {
        let record = serde_json::to_string(key).map_err(|e| malformed(&e.to_string()))?;
        let mut connection = self.connection().await?;
        let answer: Result<String, _> = self
            .scripts
            .write_key
            .key(KEYS)
            .key(NAMES)
            .key(HASHES)
            .key(VERSION)
            .arg(mode)
            .arg(&key.id)
            .arg(&key.name)
            .arg(&key.hash)
            .arg(record)
            .invoke_async(&mut connection)
            .await;
        match self.forget_on_failure(answer).await?.as_str() {
            "ok" => Ok(()),
            "not_found" => Err(TeamError::NotFound(key.id.clone())),
            _ => Err(TeamError::NameTaken(key.name.clone())),
        }
    }

    async fn remove_key(&self, id: &str) -> Result<(), TeamError> {
        let mut connection = self.connection().await?;
        let answer: Result<String, _> = self
            .scripts
            .delete_key
            .key(KEYS)
            .key(NAMES)
            .key(HASHES)
            .key(VERSION)
            .arg(id)
            .invoke_async(&mut connection)
            .await;
        match self.forget_on_failure(answer).await?.as_str() {
            "ok" => Ok(()),
            _ => Err(TeamError::NotFound(id.to_owned())),
        }
    }

    async fn all_keys(&self) -> Result<Vec<VirtualKey>, TeamError> {
        let mut connection = self.connection().await?;
        let records: Result<Vec<String>, _> = redis::cmd("HVALS")
            .arg(KEYS)
            .query_async(&mut connection)
            .await;
        let mut keys = self
            .forget_on_failure(records)
            .await?
            .iter()
            .map(|r| parse_key(r))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        Ok(keys)
    }

    async fn find_by_hash(&self, hash: &str) -> Result<Option<VirtualKey>, TeamError> {
        let mut connection = self.connection().await?;
        let record: Result<Option<String>, _> = self
            .scripts
            .key_by_hash
            .key(KEYS)
            .key(HASHES)
            .arg(hash)
            .invoke_async(&mut connection)
            .await;
        match self.forget_on_failure(record).await? {
            Some(json) => Ok(Some(parse_key(&json)?)),
            None => Ok(None),
        }
    }

    async fn version(&self) -> Result<u64, TeamError> {
        let mut connection = self.connection().await?;
        let version: Result<Option<u64>, _> = redis::cmd("GET")
            .arg(VERSION)
            .query_async(&mut connection)
            .await;
        Ok(self.forget_on_failure(version).await?.unwrap_or(0))
    }

    async fn add(&self, batch: &SpendBatch) -> Result<(), TeamError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection().await?;
        let mut call = self.scripts.add_spend.prepare_invoke();
        call.arg(SPEND_KEEP_SECS).arg(batch.rows.len());
        for row in &batch.rows {
            call.key(spend_key(&row.day))
                .arg(format!("{}|", row.dimension.as_str()))
                .arg(format!("|{}", row.name));
            for value in row.counts.values() {
                call.arg(value);
            }
        }
        for counter in &batch.counters {
            call.key(counter_key(&counter.name))
                .arg(counter.add)
                .arg(counter.expires_at_ms);
        }
        let done: Result<i64, _> = call.invoke_async(&mut connection).await;
        self.forget_on_failure(done).await?;
        Ok(())
    }

    async fn read_counters(&self, names: &[String]) -> Result<Vec<u64>, TeamError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection().await?;
        let keys: Vec<String> = names.iter().map(|n| counter_key(n)).collect();
        let values: Result<Vec<Option<u64>>, _> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut connection)
            .await;
        let values = self.forget_on_failure(values).await?;
        Ok(values.into_iter().map(Option::unwrap_or_default).collect())
    }

    async fn read_spend(&self, from: &str, to: &str) -> Result<Vec<SpendRow>, TeamError> {
        let days = crate::store::team::days_between(from, to);
        if days.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection().await?;
        let mut pipe = redis::pipe();
        for day in &days {
            pipe.cmd("HGETALL").arg(spend_key(day));
        }
        let hashes: Result<Vec<std::collections::HashMap<String, u64>>, _> =
            pipe.query_async(&mut connection).await;
        let hashes = self.forget_on_failure(hashes).await?;
        let mut rows: Vec<SpendRow> = Vec::new();
        for (day, fields) in days.iter().zip(hashes) {
            let mut found: std::collections::BTreeMap<(Dimension, String), SpendCounts> =
                std::collections::BTreeMap::new();
            for (field, value) in fields {
                // "DIMENSION|COUNTER|NAME"; the name may hold `|` itself.
                let mut parts = field.splitn(3, '|');
                let (Some(dimension), Some(counter), Some(name)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                let Some(dimension) = Dimension::parse(dimension) else {
                    continue;
                };
                found
                    .entry((dimension, name.to_owned()))
                    .or_default()
                    .set(counter, value);
            }
            rows.extend(
                found
                    .into_iter()
                    .map(|((dimension, name), counts)| SpendRow {
                        day: day.clone(),
                        dimension,
                        name,
                        counts,
                    }),
            );
        }
        Ok(rows)
    }
}

impl TeamStore for RedisStore {
    fn create_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        Box::pin(self.write_key(key, "create"))
    }

    fn replace_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        Box::pin(self.write_key(key, "replace"))
    }

    fn delete_key<'a>(&'a self, id: &'a str) -> TeamFuture<'a, ()> {
        Box::pin(self.remove_key(id))
    }

    fn keys(&self) -> TeamFuture<'_, Vec<VirtualKey>> {
        Box::pin(self.all_keys())
    }

    fn key_by_hash<'a>(&'a self, hash: &'a str) -> TeamFuture<'a, Option<VirtualKey>> {
        Box::pin(self.find_by_hash(hash))
    }

    fn keys_version(&self) -> TeamFuture<'_, u64> {
        Box::pin(self.version())
    }

    fn add_spend<'a>(&'a self, batch: &'a SpendBatch) -> TeamFuture<'a, ()> {
        Box::pin(self.add(batch))
    }

    fn counters<'a>(&'a self, names: &'a [String], _now_ms: u64) -> TeamFuture<'a, Vec<u64>> {
        // Redis expires counters itself.
        Box::pin(self.read_counters(names))
    }

    fn spend<'a>(&'a self, from: &'a str, to: &'a str) -> TeamFuture<'a, Vec<SpendRow>> {
        Box::pin(self.read_spend(from, to))
    }
}

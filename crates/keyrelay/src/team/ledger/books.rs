//! Spend booked in memory until the next sync. Sharded, so the threads
//! serving requests rarely wait on one another, and looked up by borrowed
//! names, so booking an answer allocates only for a row not seen before.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustc_hash::{FxHashMap, FxHasher};

use crate::store::team::SpendCounts;

const DAY_MS: u64 = 86_400_000;
const SHARDS: usize = 8;

/// What one answer spent, and on what.
#[derive(Debug, Clone, Copy)]
pub struct Spent<'a> {
    /// Unix ms the answer ended.
    pub at_ms: u64,
    /// The virtual key's id and name.
    pub key: Option<(&'a Arc<str>, &'a Arc<str>)>,
    pub team: Option<&'a Arc<str>>,
    pub provider: &'a str,
    pub model: Option<&'a str>,
    /// The provider key's fingerprint id.
    pub provider_key: Option<&'a str>,
    pub counts: SpendCounts,
}

/// One row of pending spend: a day, a virtual key (id) and team, a model
/// and the provider key that served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey {
    /// Days since 1970-01-01 (UTC).
    pub day: u64,
    pub key: Option<Arc<str>>,
    pub team: Option<Arc<str>>,
    pub provider: String,
    pub model: Option<String>,
    pub provider_key: Option<String>,
}

/// Spend since the process started by virtual key (name, `-` for none),
/// team (`-`) and `provider@model`, for `/metrics`.
pub type Totals = BTreeMap<(String, String, String), SpendCounts>;

#[derive(Debug, Clone)]
struct TotalKey {
    key: Option<Arc<str>>,
    team: Option<Arc<str>>,
    provider: String,
    model: Option<String>,
}

/// Keys are names keyrelay booked (models that answered, keys and teams
/// operators made), so a fast hash that is not keyed is fine.
#[derive(Default)]
struct Books {
    pending: FxHashMap<u64, Vec<(RowKey, SpendCounts)>>,
    totals: FxHashMap<u64, Vec<(TotalKey, SpendCounts)>>,
}

pub struct Shelves {
    shards: Vec<Mutex<Books>>,
}

impl Default for Shelves {
    fn default() -> Self {
        Shelves {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

fn hash_of(parts: impl Hash) -> u64 {
    let mut hasher = FxHasher::default();
    parts.hash(&mut hasher);
    hasher.finish()
}

fn lock(books: &Mutex<Books>) -> MutexGuard<'_, Books> {
    books.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shelves {
    /// This thread's shard.
    fn mine(&self) -> &Mutex<Books> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
        }
        &self.shards[SHARD.with(|s| *s)]
    }

    pub fn record(&self, spent: &Spent<'_>) {
        let day = spent.at_ms / DAY_MS;
        let key_id = spent.key.map(|(id, _)| &**id);
        let key_name = spent.key.map(|(_, name)| &**name);
        let team = spent.team.map(|t| &**t);
        let row = hash_of((
            day,
            key_id,
            team,
            spent.provider,
            spent.model,
            spent.provider_key,
        ));
        let total = hash_of((key_name, team, spent.provider, spent.model));
        let mut books = lock(self.mine());
        let rows = books.pending.entry(row).or_default();
        let found = rows.iter_mut().find(|(r, _)| {
            r.day == day
                && r.key.as_deref() == key_id
                && r.team.as_deref() == team
                && r.provider == spent.provider
                && r.model.as_deref() == spent.model
                && r.provider_key.as_deref() == spent.provider_key
        });
        match found {
            Some((_, counts)) => counts.add(&spent.counts),
            None => rows.push((
                RowKey {
                    day,
                    key: spent.key.map(|(id, _)| id.clone()),
                    team: spent.team.cloned(),
                    provider: spent.provider.to_owned(),
                    model: spent.model.map(str::to_owned),
                    provider_key: spent.provider_key.map(str::to_owned),
                },
                spent.counts,
            )),
        }
        let totals = books.totals.entry(total).or_default();
        let found = totals.iter_mut().find(|(t, _)| {
            t.key.as_deref() == key_name
                && t.team.as_deref() == team
                && t.provider == spent.provider
                && t.model.as_deref() == spent.model
        });
        match found {
            Some((_, counts)) => counts.add(&spent.counts),
            None => totals.push((
                TotalKey {
                    key: spent.key.map(|(_, name)| name.clone()),
                    team: spent.team.cloned(),
                    provider: spent.provider.to_owned(),
                    model: spent.model.map(str::to_owned),
                },
                spent.counts,
            )),
        }
    }

    /// Every pending row, taken out of the books.
    pub fn take_pending(&self) -> Vec<(RowKey, SpendCounts)> {
        let mut rows = Vec::new();
        for shard in &self.shards {
            let pending = std::mem::take(&mut lock(shard).pending);
            rows.extend(pending.into_values().flatten());
        }
        rows
    }

    /// Puts rows a failed write certainly did not write back.
    pub fn give_back(&self, rows: Vec<(RowKey, SpendCounts)>) {
        let mut books = lock(self.mine());
        for (row, counts) in rows {
            let hash = hash_of((
                row.day,
                row.key.as_deref(),
                row.team.as_deref(),
                row.provider.as_str(),
                row.model.as_deref(),
                row.provider_key.as_deref(),
            ));
            let rows = books.pending.entry(hash).or_default();
            match rows.iter_mut().find(|(r, _)| *r == row) {
                Some((_, kept)) => kept.add(&counts),
                None => rows.push((row, counts)),
            }
        }
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::new();
        let name = |v: &Option<Arc<str>>| v.as_deref().unwrap_or("-").to_owned();
        for shard in &self.shards {
            for (key, counts) in lock(shard).totals.values().flatten() {
                let model = format!("{}@{}", key.provider, key.model.as_deref().unwrap_or("-"));
                totals
                    .entry((name(&key.key), name(&key.team), model))
                    .or_default()
                    .add(counts);
            }
        }
        totals
    }
}

//! What a team's gateway keeps beside key state, in the same store: virtual
//! keys (by the SHA-256 of their secret, never the secret) and spend.
//!
//! Spend is kept twice, both as counters that only add: rows per UTC day
//! and dimension (a virtual key, a team, a model, a provider, a provider
//! key) for reports, and short-lived named counters for what budgets and
//! rate limits read (a key's spend this day, week and month, its requests
//! and tokens per 10-second bucket). Every process adds its own increments,
//! so replicas sharing a store spend one budget together.

mod memory;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use memory::MemoryTeamStore;

use super::error::BackendError;

/// A boxed future, so team stores can be used as `dyn TeamStore`.
pub type TeamFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TeamError>> + Send + 'a>>;

/// Why a team store call failed.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("a virtual key named `{0}` exists already")]
    NameTaken(String),
    #[error("no virtual key with id `{0}`")]
    NotFound(String),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("the state store did not answer within {0} ms")]
    TimedOut(u128),
}

impl TeamError {
    /// True when the failed call certainly changed nothing, so what it
    /// carried may be sent again without counting twice.
    pub fn changed_nothing(&self) -> bool {
        match self {
            TeamError::NameTaken(_) | TeamError::NotFound(_) => true,
            TeamError::Backend(err) => err.changed_nothing(),
            TeamError::TimedOut(_) => false,
        }
    }
}

/// A virtual key as the store keeps it. No secret: `hash` is the hex
/// SHA-256 of the whole secret, which cannot be turned back into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualKey {
    /// 12 hex characters, random; how the admin API and the CLI name it.
    pub id: String,
    /// Hex SHA-256 of the secret (`kr-…`).
    pub hash: String,
    /// Unique among virtual keys; shown in logs, metrics and reports.
    pub name: String,
    pub team: Option<String>,
    /// Model globs it may use (`gemini@*`, `openai@gpt-4.1`, an alias).
    pub routes: Vec<String>,
    /// Requests per minute, across every replica.
    pub rpm: Option<u64>,
    /// Tokens (input, output and cache) per minute, across every replica.
    pub tpm: Option<u64>,
    pub budget: UsdBudget,
    /// Unix ms after which it is refused.
    pub expires_at_ms: Option<u64>,
    /// Unix ms it was disabled at; `None` while it serves.
    pub disabled_at_ms: Option<u64>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

/// Budgets in nano-USD (10⁻⁹ USD) per UTC day, ISO week and calendar month;
/// `None` is no budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsdBudget {
    pub day: Option<u64>,
    pub week: Option<u64>,
    pub month: Option<u64>,
}

impl UsdBudget {
    pub fn is_empty(&self) -> bool {
        self.day.is_none() && self.week.is_none() && self.month.is_none()
    }
}

/// What spend is kept by, in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// A virtual key, by id.
    Key,
    Team,
    /// `provider@model`, the upstream model.
    Model,
    Provider,
    /// `provider/fingerprint-id`: the provider key that served.
    ProviderKey,
}

impl Dimension {
    pub const ALL: [Dimension; 5] = [
        Dimension::Key,
        Dimension::Team,
        Dimension::Model,
        Dimension::Provider,
        Dimension::ProviderKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Key => "key",
            Dimension::Team => "team",
            Dimension::Model => "model",
            Dimension::Provider => "provider",
            Dimension::ProviderKey => "provider_key",
        }
    }

    pub fn parse(text: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// Counters of spend; they only add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendCounts {
    pub requests: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// What the priced requests cost, in nano-USD.
    pub usd_nanos: u64,
    /// Requests whose model has no price: their tokens count, their cost is unknown.
    pub unpriced_requests: u64,
    /// Requests whose usage was estimated (the answer reported none).
    pub estimated_requests: u64,
}

impl SpendCounts {
    /// Field names, in the order of [`SpendCounts::values`].
    pub const FIELDS: [&'static str; 8] = [
        "requests",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "usd_nanos",
        "unpriced_requests",
        "estimated_requests",
    ];

    pub fn values(&self) -> [u64; 8] {
        [
            self.requests,
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.usd_nanos,
            self.unpriced_requests,
            self.estimated_requests,
        ]
    }

    pub fn from_values(v: [u64; 8]) -> SpendCounts {
        SpendCounts {
            requests: v[0],
            input_tokens: v[1],
            output_tokens: v[2],
            cache_read_tokens: v[3],
            cache_write_tokens: v[4],
            usd_nanos: v[5],
            unpriced_requests: v[6],
            estimated_requests: v[7],
        }
    }

    /// Sets the counter named `field` (one of [`SpendCounts::FIELDS`]).
    pub fn set(&mut self, field: &str, value: u64) -> bool {
        let Some(at) = Self::FIELDS.iter().position(|f| *f == field) else {
            return false;
        };
        let mut values = self.values();
        values[at] = value;
        *self = SpendCounts::from_values(values);
        true
    }

    pub fn add(&mut self, other: &SpendCounts) {
        let (mut mine, theirs) = (self.values(), other.values());
        for (m, t) in mine.iter_mut().zip(theirs) {
            *m = m.saturating_add(t);
        }
        *self = SpendCounts::from_values(mine);
    }

    pub fn tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_write_tokens)
    }
}

/// Spend of one day (UTC, `YYYY-MM-DD`) by one dimension's `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendRow {
    pub day: String,
    pub dimension: Dimension,
    pub name: String,
    pub counts: SpendCounts,
}

/// An increment of a named counter that is forgotten after `expires_at_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterAdd {
    pub name: String,
    pub add: u64,
    pub expires_at_ms: u64,
}

/// What one write adds, atomically.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpendBatch {
    pub rows: Vec<SpendRow>,
    pub counters: Vec<CounterAdd>,
}

impl SpendBatch {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.counters.is_empty()
    }
}

/// Where virtual keys and spend live. Every change to a key is atomic and
/// bumps a version, which is how other processes notice it; spend only
/// adds, so processes never lose one another's increments.
pub trait TeamStore: Send + Sync {
    /// Adds a key; [`TeamError::NameTaken`] when its name is in use.
    fn create_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()>;
    /// Replaces the key with `key.id`; [`TeamError::NotFound`] or
    /// [`TeamError::NameTaken`] (a rename onto another key's name).
    fn replace_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()>;
    /// Removes a key; [`TeamError::NotFound`] when there is none.
    fn delete_key<'a>(&'a self, id: &'a str) -> TeamFuture<'a, ()>;
    /// Every key.
    fn keys(&self) -> TeamFuture<'_, Vec<VirtualKey>>;
    /// The key whose secret hashes to `hash`.
    fn key_by_hash<'a>(&'a self, hash: &'a str) -> TeamFuture<'a, Option<VirtualKey>>;
    /// A number that changes whenever a key is created, changed or deleted.
    fn keys_version(&self) -> TeamFuture<'_, u64>;
    /// Adds `batch`: every row and counter, or nothing.
    fn add_spend<'a>(&'a self, batch: &'a SpendBatch) -> TeamFuture<'a, ()>;
    /// The values of `names` (0 for a counter never added to, or expired by `now_ms`).
    fn counters<'a>(&'a self, names: &'a [String], now_ms: u64) -> TeamFuture<'a, Vec<u64>>;
    /// Every row from day `from` to day `to` (inclusive, `YYYY-MM-DD`).
    fn spend<'a>(&'a self, from: &'a str, to: &'a str) -> TeamFuture<'a, Vec<SpendRow>>;
}

/// The most days one spend read covers.
pub const MAX_DAYS: usize = 400;

/// Every day from `from` to `to` (inclusive, `YYYY-MM-DD`), at most
/// [`MAX_DAYS`]; none when either does not parse or `to` comes first.
pub fn days_between(from: &str, to: &str) -> Vec<String> {
    use chrono::NaiveDate;
    let parse = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok();
    let (Some(mut day), Some(last)) = (parse(from), parse(to)) else {
        return Vec::new();
    };
    let mut days = Vec::new();
    while day <= last && days.len() < MAX_DAYS {
        days.push(day.format("%Y-%m-%d").to_string());
        let Some(next) = day.succ_opt() else { break };
        day = next;
    }
    days
}

#[cfg(test)]
mod tests;

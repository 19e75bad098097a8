//! The interface of a persistent store, and the coalesced update it applies.

use std::future::Future;
use std::pin::Pin;

use keypool::{ClassCounts, KeyHealth, KeyRecord, KeyUpdate, OutcomeClass};

use super::error::BackendError;

/// A boxed backend future, so backends can be used as `dyn Backend`.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// A persistent store as [`super::ResilientStore`] drives it: batched writes
/// of coalesced deltas, and whole-pool reads. Implementations merge in the
/// store itself (later deadline wins, counters add), atomically per call, so
/// any number of processes may write at once.
pub trait Backend: Send + Sync + 'static {
    /// Where the data lives, for logs (`sqlite /path`, `redis 127.0.0.1:6379/0`),
    /// without credentials.
    fn describe(&self) -> String;
    /// Every record of `pool`, in one round trip.
    fn load<'a>(&'a self, pool: &'a str) -> BackendFuture<'a, Vec<KeyRecord>>;
    /// Merges every delta in one transaction or round trip. With no deltas it
    /// still reaches the store, as a health check.
    fn apply<'a>(&'a self, deltas: &'a [KeyDelta]) -> BackendFuture<'a, ()>;
}

/// What one or more attempts did to one key, ready to merge into a store.
/// Deltas for one key coalesce without loss ([`KeyDelta::absorb`]), which is
/// what keeps the write-behind queue bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDelta {
    pub pool: String,
    /// The key's fingerprint id; never key material.
    pub id: String,
    pub health: KeyHealth,
    /// Attempts to add to the key's counter (0 for a health-only change).
    pub requests: u64,
    /// Attempts to add per outcome class.
    pub outcomes: ClassCounts,
    pub last_class: Option<OutcomeClass>,
    pub last_reason: Option<String>,
    /// Unix ms of the latest attempt folded in; 0 when none.
    pub last_used_ms: u64,
}

impl KeyDelta {
    /// One attempt.
    pub fn attempt(pool: &str, update: &KeyUpdate<'_>) -> KeyDelta {
        let mut outcomes = ClassCounts::default();
        outcomes.add(update.class, 1);
        KeyDelta {
            pool: pool.to_owned(),
            id: update.id.to_owned(),
            health: update.health.clone(),
            requests: 1,
            outcomes,
            last_class: Some(update.class),
            last_reason: update.reason.map(str::to_owned),
            last_used_ms: update.at_ms,
        }
    }

    /// A health change without an attempt (a reinstated key, or a resync).
    pub fn health_only(pool: &str, id: &str, health: &KeyHealth) -> KeyDelta {
        KeyDelta {
            pool: pool.to_owned(),
            id: id.to_owned(),
            health: health.clone(),
            ..KeyDelta::default()
        }
    }

    /// Folds a later delta for the same key into this one: health merges,
    /// counters add, the latest attempt's class and reason win.
    pub fn absorb(&mut self, other: &KeyDelta) {
        self.health.merge(&other.health);
        self.requests += other.requests;
        for class in OutcomeClass::ALL {
            self.outcomes.add(class, other.outcomes.get(class));
        }
        if other.requests > 0 && other.last_used_ms >= self.last_used_ms {
            self.last_class = other.last_class;
            self.last_reason.clone_from(&other.last_reason);
            self.last_used_ms = other.last_used_ms;
        }
    }
}

/// An outcome class from its stored name (`rate_limited`).
pub(crate) fn class_from_str(name: &str) -> Option<OutcomeClass> {
    OutcomeClass::ALL.into_iter().find(|c| c.as_str() == name)
}

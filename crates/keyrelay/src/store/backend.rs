//! The interface of a persistent store, and the coalesced update it applies.

use std::future::Future;
use std::pin::Pin;

use keypool::{KeyHealth, KeyRecord, KeyUpdate, OutcomeClass, UsageBucket};

use super::error::BackendError;

/// A boxed backend future, so backends can be used as `dyn Backend`.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// A persistent store as [`super::ResilientStore`] drives it: batched writes
/// of coalesced deltas, and whole-pool reads. Implementations merge in the
/// store itself by the rules of [`KeyRecord::absorb`] (later deadline wins,
/// counters add, the latest attempt's class stays), atomically per call, so
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

/// What one or more attempts did to one key of `pool`, ready to merge into a
/// store. Deltas for one key coalesce without loss ([`KeyRecord::absorb`]),
/// which is what keeps the write-behind queue bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyDelta {
    pub pool: String,
    /// The change: the key's fingerprint id (never key material), its health,
    /// the counts to add, and the latest attempt's class and reason.
    pub record: KeyRecord,
}

impl KeyDelta {
    /// One attempt.
    pub fn attempt(pool: &str, update: &KeyUpdate<'_>) -> KeyDelta {
        KeyDelta {
            pool: pool.to_owned(),
            record: KeyRecord::attempt(update),
        }
    }

    /// Usage counted against a key's budget.
    pub fn usage_only(pool: &str, id: &str, usage: &[UsageBucket]) -> KeyDelta {
        KeyDelta {
            pool: pool.to_owned(),
            record: KeyRecord {
                id: id.to_owned(),
                usage: usage.to_vec(),
                ..KeyRecord::default()
            },
        }
    }

    /// A health change without an attempt (a reinstated key, or a resync).
    pub fn health_only(pool: &str, id: &str, health: &KeyHealth) -> KeyDelta {
        KeyDelta {
            pool: pool.to_owned(),
            record: KeyRecord::health_only(id, health),
        }
    }
}

/// An outcome class from its stored name (`rate_limited`).
pub(crate) fn class_from_str(name: &str) -> Option<OutcomeClass> {
    OutcomeClass::ALL.into_iter().find(|c| c.as_str() == name)
}

//! What a state store keeps for one key, and the changes that fold into it:
//! [`KeyRecord`] (health and counters), [`KeyUpdate`] (one attempt, as the
//! pool sends it) and [`RecordChange`] (any change, borrowed, as a store
//! merges it). The merge rules live here once, in [`KeyRecord::absorb`], so
//! the in-memory store and the persistent ones follow the same ones.

use serde::{Deserialize, Serialize};

use crate::budget::{self, UsageBucket};
use crate::health::KeyHealth;
use crate::outcome::OutcomeClass;

/// Counts per outcome class, indexed by [`OutcomeClass::index`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts(pub [u64; 8]);

impl ClassCounts {
    pub fn add(&mut self, class: OutcomeClass, n: u64) {
        self.0[class.index()] += n;
    }

    pub fn get(&self, class: OutcomeClass) -> u64 {
        self.0[class.index()]
    }

    /// Adds every count of `other`.
    pub fn add_all(&mut self, other: &ClassCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }

    /// Every class except success.
    pub fn failures(&self) -> u64 {
        OutcomeClass::ALL
            .iter()
            .filter(|c| **c != OutcomeClass::Success)
            .map(|c| self.get(*c))
            .sum()
    }
}

/// One key's record in a state store: fingerprint id, health and counters.
/// Holds no key material.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// [`crate::Fingerprint::id`].
    pub id: String,
    pub health: KeyHealth,
    /// Attempts made with the key.
    pub requests: u64,
    /// Attempts per outcome class.
    pub outcomes: ClassCounts,
    pub last_class: Option<OutcomeClass>,
    pub last_reason: Option<String>,
    /// Unix ms of the last attempt.
    pub last_used_ms: u64,
    /// Requests and tokens per time bucket, for client-side budgets (only
    /// for keys that have one). Counters: they add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<UsageBucket>,
}

impl KeyRecord {
    /// What one attempt adds to its key's record.
    pub fn attempt(update: &KeyUpdate<'_>) -> KeyRecord {
        let mut record = KeyRecord {
            id: update.id.to_owned(),
            ..KeyRecord::default()
        };
        record.absorb(&RecordChange::attempt(update));
        record
    }

    /// A health change without an attempt (a reinstated key, or a resync).
    pub fn health_only(id: &str, health: &KeyHealth) -> KeyRecord {
        KeyRecord {
            id: id.to_owned(),
            health: health.clone(),
            ..KeyRecord::default()
        }
    }

    /// This record as a change to fold into another record of the same key.
    pub fn as_change(&self) -> RecordChange<'_> {
        RecordChange {
            usage: &self.usage,
            health: &self.health,
            requests: self.requests,
            outcomes: self.outcomes,
            last_class: self.last_class,
            last_reason: self.last_reason.as_deref(),
            last_used_ms: self.last_used_ms,
        }
    }

    /// Folds in a change to the same key: the one merge every store follows
    /// (the SQLite and Redis stores say it again in SQL and Lua). Health
    /// merges ([`KeyHealth::merge`]), counters add, and the latest attempt
    /// (by `last_used_ms`) sets the last class and reason, whatever the order
    /// of arrival; on a tie the change folded in last wins.
    pub fn absorb(&mut self, change: &RecordChange<'_>) {
        self.health.merge(change.health);
        if !change.usage.is_empty() {
            for bucket in change.usage {
                budget::add(&mut self.usage, *bucket);
            }
            // Buckets too old to count next to the newest one are dead.
            let newest = self
                .usage
                .iter()
                .map(|b| b.index * b.span.width_ms())
                .max()
                .unwrap_or(0);
            budget::forget_old(&mut self.usage, newest);
        }
        self.requests += change.requests;
        self.outcomes.add_all(&change.outcomes);
        if change.requests > 0 && change.last_used_ms >= self.last_used_ms {
            self.last_class = change.last_class;
            match (&mut self.last_reason, change.last_reason) {
                (Some(mine), Some(theirs)) => {
                    mine.clear();
                    mine.push_str(theirs);
                }
                (mine, theirs) => *mine = theirs.map(str::to_owned),
            }
            self.last_used_ms = change.last_used_ms;
        }
    }
}

/// A change to a key's record, borrowed: one attempt, a health change, or
/// another record of the same key ([`KeyRecord::as_change`]).
#[derive(Debug, Clone, Copy)]
pub struct RecordChange<'a> {
    pub health: &'a KeyHealth,
    /// Usage buckets to add.
    pub usage: &'a [UsageBucket],
    pub requests: u64,
    pub outcomes: ClassCounts,
    pub last_class: Option<OutcomeClass>,
    pub last_reason: Option<&'a str>,
    pub last_used_ms: u64,
}

impl<'a> RecordChange<'a> {
    /// What one attempt changes.
    pub fn attempt(update: &KeyUpdate<'a>) -> RecordChange<'a> {
        let mut outcomes = ClassCounts::default();
        outcomes.add(update.class, 1);
        RecordChange {
            health: update.health,
            usage: &[],
            requests: 1,
            outcomes,
            last_class: Some(update.class),
            last_reason: update.reason,
            last_used_ms: update.at_ms,
        }
    }

    /// Usage counted, nothing else.
    pub fn usage_only(health: &'a KeyHealth, usage: &'a [UsageBucket]) -> RecordChange<'a> {
        RecordChange {
            usage,
            ..RecordChange::health_only(health)
        }
    }

    /// A health change without an attempt.
    pub fn health_only(health: &'a KeyHealth) -> RecordChange<'a> {
        RecordChange {
            health,
            usage: &[],
            requests: 0,
            outcomes: ClassCounts::default(),
            last_class: None,
            last_reason: None,
            last_used_ms: 0,
        }
    }
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

#[cfg(test)]
mod tests;

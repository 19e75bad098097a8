//! What the pool knows about one key: whether it may be used, and counters.

use serde::{Deserialize, Serialize};

use crate::budget::{self, UsageBucket};
use crate::outcome::OutcomeClass;
use crate::store::KeyUpdate;

/// A key's health. Every field merges without coordination (see
/// [`KeyHealth::merge`]), which is what lets several processes share it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHealth {
    /// Unix ms until which the key must not be used; 0 when not cooling.
    pub cooling_until_ms: u64,
    /// What put the key in its current cooldown.
    pub cooling_class: Option<OutcomeClass>,
    /// Unix ms when the key was last disabled as invalid; 0 when never.
    pub disabled_at_ms: u64,
    /// Unix ms when a re-check last found the key valid again.
    pub reinstated_at_ms: u64,
    /// The provider's reason for disabling, secret-free (`invalid_api_key`).
    pub disabled_reason: Option<String>,
    /// Consecutive rate-limited answers, for backoff without a hint.
    pub rate_streak: u32,
    /// Consecutive transient failures, for cooling a key that keeps failing.
    pub transient_streak: u32,
    /// Cooldowns that hold for one model only (a per-model quota): the key
    /// keeps serving every other model. Sorted by model; expired entries are
    /// dropped whenever the key's health changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scoped: Vec<ScopedCooldown>,
}

/// A cooldown for one model of a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedCooldown {
    /// The model, as the request named it upstream.
    pub model: String,
    /// Unix ms until which the key must not be used for `model`.
    pub until_ms: u64,
    pub class: OutcomeClass,
}

impl KeyHealth {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at_ms > self.reinstated_at_ms
    }

    pub fn is_cooling(&self, now_ms: u64) -> bool {
        self.cooling_until_ms > now_ms
    }

    pub fn is_available(&self, now_ms: u64) -> bool {
        !self.is_disabled() && !self.is_cooling(now_ms)
    }

    /// Whether the key may serve `model` now: available, and not cooling for
    /// that model. A request whose model is unknown sees only key-wide state.
    pub fn is_available_for(&self, now_ms: u64, model: Option<&str>) -> bool {
        self.is_available(now_ms) && self.model_cooling_until(model) <= now_ms
    }

    /// When the key can serve `model` again, cooldowns of both scopes
    /// together (0 when it can now, disabled aside).
    pub fn available_at_ms(&self, model: Option<&str>) -> u64 {
        self.cooling_until_ms.max(self.model_cooling_until(model))
    }

    /// The end of `model`'s own cooldown on this key (0 when none).
    pub fn model_cooling_until(&self, model: Option<&str>) -> u64 {
        match model {
            Some(model) if !self.scoped.is_empty() => self
                .scoped_index(model)
                .ok()
                .map_or(0, |i| self.scoped[i].until_ms),
            _ => 0,
        }
    }

    /// Extends the cooldown to `until_ms`; never shortens an existing one.
    pub fn cool_until(&mut self, until_ms: u64, class: OutcomeClass) {
        if until_ms > self.cooling_until_ms {
            self.cooling_until_ms = until_ms;
            self.cooling_class = Some(class);
        }
    }

    /// Extends `model`'s own cooldown to `until_ms`; never shortens it.
    pub fn cool_model_until(&mut self, model: &str, until_ms: u64, class: OutcomeClass) {
        match self.scoped_index(model) {
            Ok(i) => {
                let entry = &mut self.scoped[i];
                if until_ms > entry.until_ms {
                    entry.until_ms = until_ms;
                    entry.class = class;
                }
            }
            Err(i) => self.scoped.insert(
                i,
                ScopedCooldown {
                    model: model.to_owned(),
                    until_ms,
                    class,
                },
            ),
        }
    }

    /// Drops model cooldowns that ended by `now_ms`.
    pub fn forget_expired(&mut self, now_ms: u64) {
        self.scoped.retain(|c| c.until_ms > now_ms);
    }

    /// Model cooldowns still running at `now_ms`.
    pub fn scoped_at(&self, now_ms: u64) -> impl Iterator<Item = &ScopedCooldown> {
        self.scoped.iter().filter(move |c| c.until_ms > now_ms)
    }

    fn scoped_index(&self, model: &str) -> Result<usize, usize> {
        self.scoped
            .binary_search_by(|c| c.model.as_str().cmp(model))
    }

    pub fn state(&self, now_ms: u64) -> KeyState {
        if self.is_disabled() {
            KeyState::Disabled
        } else if self.is_cooling(now_ms) {
            KeyState::Cooling
        } else {
            KeyState::Available
        }
    }

    /// Folds in another view of the same key: the later deadline and the
    /// latest disable/reinstate event win.
    pub fn merge(&mut self, other: &KeyHealth) {
        if other.cooling_until_ms > self.cooling_until_ms {
            self.cooling_until_ms = other.cooling_until_ms;
            self.cooling_class = other.cooling_class;
        }
        if other.disabled_at_ms > self.disabled_at_ms {
            self.disabled_at_ms = other.disabled_at_ms;
            self.disabled_reason.clone_from(&other.disabled_reason);
        }
        self.reinstated_at_ms = self.reinstated_at_ms.max(other.reinstated_at_ms);
        for cooldown in &other.scoped {
            self.cool_model_until(&cooldown.model, cooldown.until_ms, cooldown.class);
        }
        // Streaks stay local: a success here must reset them even if another
        // view still carries an old streak.
    }
}

/// A key's state as shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Available,
    Cooling,
    Disabled,
}

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

//! A key's health: whether it may be used now and for which models (its
//! cooldowns and whether it is disabled), and how two views of it merge.
//! The counters and the record a store keeps per key are in `record.rs`.

use serde::{Deserialize, Serialize};

use crate::outcome::OutcomeClass;

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

//! How long a key rests after each kind of failure.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::health::KeyHealth;
use crate::outcome::{Outcome, OutcomeClass};

/// Penalties per outcome class. Provider hints always win over the defaults
/// here when they are longer; nothing ever shortens an existing cooldown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CooldownPolicy {
    /// First backoff for a rate limit without a hint; doubles per repeat.
    #[serde(with = "secs")]
    pub rate_limit_base: Duration,
    /// Cap of that backoff.
    #[serde(with = "secs")]
    pub rate_limit_cap: Duration,
    /// Rest for a key whose account has no credit.
    #[serde(with = "secs")]
    pub no_credit: Duration,
    /// Rest for a per-day quota when the provider gave no reset time.
    #[serde(with = "secs")]
    pub quota_daily_fallback: Duration,
    /// Consecutive transient failures after which a key itself cools.
    pub transient_streak: u32,
    /// First cooldown once that streak is reached; doubles per further failure.
    #[serde(with = "secs")]
    pub transient_base: Duration,
    #[serde(with = "secs")]
    pub transient_cap: Duration,
    /// The same failure signature on two keys within this window means the
    /// provider is failing, not the keys.
    #[serde(with = "secs")]
    pub provider_down_window: Duration,
}

impl Default for CooldownPolicy {
    fn default() -> Self {
        CooldownPolicy {
            rate_limit_base: Duration::from_secs(1),
            rate_limit_cap: Duration::from_secs(300),
            no_credit: Duration::from_secs(6 * 3600),
            quota_daily_fallback: Duration::from_secs(3600),
            transient_streak: 3,
            transient_base: Duration::from_secs(5),
            transient_cap: Duration::from_secs(120),
            provider_down_window: Duration::from_secs(5),
        }
    }
}

impl CooldownPolicy {
    /// Applies one attempt's outcome to the key's health at `now_ms`.
    pub fn apply(&self, health: &mut KeyHealth, outcome: &Outcome, now_ms: u64) {
        let at =
            |d: Duration| now_ms.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let hint = outcome.retry_after;
        health.forget_expired(now_ms);
        // A per-model limit cools the key for that model only.
        let cool =
            |health: &mut KeyHealth, until: u64, class: OutcomeClass| match outcome.model_scope() {
                Some(model) => health.cool_model_until(model, until, class),
                None => health.cool_until(until, class),
            };
        match outcome.class {
            OutcomeClass::Success => {
                health.rate_streak = 0;
                health.transient_streak = 0;
                // A success that says "nothing left until the reset" parks the key.
                if let Some(hint) = hint {
                    health.cool_until(at(hint), OutcomeClass::RateLimited);
                }
            }
            OutcomeClass::ClientError | OutcomeClass::ProviderDown => {}
            _ if !outcome.penalize => {}
            OutcomeClass::KeyInvalid => {
                health.disabled_at_ms = now_ms.max(health.reinstated_at_ms + 1);
                health.disabled_reason.clone_from(&outcome.reason);
            }
            OutcomeClass::KeyNoCredit => {
                health.cool_until(
                    at(hint.unwrap_or_default().max(self.no_credit)),
                    outcome.class,
                );
            }
            OutcomeClass::QuotaDaily => {
                cool(
                    health,
                    at(hint.unwrap_or(self.quota_daily_fallback)),
                    outcome.class,
                );
            }
            OutcomeClass::RateLimited => {
                health.rate_streak = health.rate_streak.saturating_add(1);
                let wait = hint.unwrap_or_else(|| {
                    backoff(
                        self.rate_limit_base,
                        self.rate_limit_cap,
                        health.rate_streak - 1,
                    )
                });
                cool(health, at(wait), outcome.class);
            }
            OutcomeClass::Transient => {
                health.transient_streak = health.transient_streak.saturating_add(1);
                if health.transient_streak >= self.transient_streak {
                    let over = health.transient_streak - self.transient_streak;
                    let wait = backoff(self.transient_base, self.transient_cap, over)
                        .max(hint.unwrap_or_default());
                    health.cool_until(at(wait), outcome.class);
                }
            }
        }
    }
}

fn backoff(base: Duration, cap: Duration, exponent: u32) -> Duration {
    base.saturating_mul(1u32 << exponent.min(20)).min(cap)
}

/// Durations in config files are written as seconds (fractions allowed).
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

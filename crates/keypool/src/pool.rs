//! A provider's keys, their health, and the choice of the next key.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;

use crate::budget::{self, Budget, UsageBucket};
use crate::clock::Clock;
use crate::health::{KeyHealth, KeyState};
use crate::history::{MinuteCount, MinuteHistory};
use crate::outcome::OutcomeClass;
use crate::policy::CooldownPolicy;
use crate::record::ClassCounts;
use crate::secret::{ApiKey, Fingerprint};
use crate::store::{MemoryStore, StateStore};
use crate::strategy::{rendezvous, Rotation, Strategy};

mod budgets;
mod operations;
mod recording;
mod shared_limits;

/// A key, its weight (used by [`Strategy::Weighted`]; at least 1), the
/// quota group it shares limits with when the configuration names one, and
/// its client-side budget.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    pub key: ApiKey,
    pub weight: u32,
    pub group: Option<String>,
    pub budget: Budget,
}

impl From<ApiKey> for KeyEntry {
    fn from(key: ApiKey) -> Self {
        KeyEntry {
            key,
            weight: 1,
            group: None,
            budget: Budget::default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct PoolConfig {
    pub strategy: Strategy,
    pub policy: CooldownPolicy,
    /// How often the pool folds in what other processes wrote to the store.
    /// Zero means before every request.
    pub refresh_interval: Duration,
}

/// The keys of one provider. Cheap to share (`Arc`); every method is safe to
/// call from many requests at once.
pub struct KeyPool {
    name: String,
    keys: Vec<KeyEntry>,
    /// Each key's fingerprint as a number, for session affinity.
    key_hashes: Vec<u64>,
    config: PoolConfig,
    clock: Clock,
    store: Arc<dyn StateStore>,
    state: Mutex<PoolState>,
}

struct PoolState {
    health: Vec<KeyHealth>,
    requests: Vec<u64>,
    outcomes: Vec<ClassCounts>,
    last_class: Vec<Option<OutcomeClass>>,
    inflight: Vec<u32>,
    rotation: Rotation,
    /// Recent failures with a signature: (key, signature, unix ms).
    recent: VecDeque<(usize, String, u64)>,
    /// Quota groups the provider named in its answers, per key. A group in
    /// the configuration wins over a learned one.
    learned_groups: Vec<Option<String>>,
    /// Attempts per 10-second bucket over the last minute, for people.
    activity: Vec<Vec<UsageBucket>>,
    /// Attempts and failures per minute over the last hour, for people.
    history: Vec<MinuteHistory>,
    /// Each key's last failed attempt: its class and Unix ms.
    last_failure: Vec<Option<(OutcomeClass, u64)>>,
    /// Requests and tokens per time bucket, for keys with a budget: what
    /// this process counted (token estimates included), folded with what
    /// the state store says every process counted.
    usage: Vec<Vec<UsageBucket>>,
    last_refresh_ms: Option<u64>,
}

/// What [`KeyPool::pick`] found.
#[derive(Debug)]
pub(crate) enum Pick {
    Key(usize),
    /// No untried key is usable now.
    None {
        /// Unix ms when the first cooling or over-budget (not disabled)
        /// untried key may be used again.
        earliest_ms: Option<u64>,
        /// Every key of the pool is disabled.
        all_disabled: bool,
        /// That first key waits for its budget, not a cooldown.
        over_budget: bool,
    },
}

/// The reason a key disabled by an operator carries.
pub const DISABLED_BY_ADMIN: &str = "disabled_by_admin";

/// A key's state for people and the admin API. No key material.
#[derive(Debug, Clone, Serialize)]
pub struct KeySnapshot {
    pub key: Fingerprint,
    pub id: String,
    pub state: KeyState,
    /// Milliseconds until a cooling key may be used again.
    pub cooldown_remaining_ms: u64,
    pub cooling_class: Option<OutcomeClass>,
    pub disabled_reason: Option<String>,
    pub requests: u64,
    pub failures: u64,
    pub outcomes: ClassCounts,
    pub last_class: Option<OutcomeClass>,
    pub inflight: u32,
    /// Attempts in the last minute (counted in 10-second buckets).
    pub recent_requests: u64,
    /// The class and Unix ms of the last failed attempt.
    pub last_failure: Option<(OutcomeClass, u64)>,
    /// Attempts and failures per minute over the last hour (minutes
    /// without attempts left out), oldest first.
    pub history: Vec<MinuteCount>,
    /// The key's budget, when it has one.
    pub budget: Option<Budget>,
    /// The quota group, configured or named by the provider.
    pub group: Option<String>,
    /// Models the key is cooling for while it serves others.
    pub model_cooldowns: Vec<ModelCooldown>,
}

/// A running cooldown for one model of a key.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCooldown {
    pub model: String,
    pub remaining_ms: u64,
    pub class: OutcomeClass,
}

impl KeyPool {
    /// A pool over `keys` (duplicates should already be removed) with an
    /// in-memory store of its own.
    pub fn new(name: impl Into<String>, keys: Vec<KeyEntry>, config: PoolConfig) -> Self {
        KeyPool::with_store(
            name,
            keys,
            config,
            Clock::system(),
            Arc::new(MemoryStore::new()),
        )
    }

    pub fn with_store(
        name: impl Into<String>,
        keys: Vec<KeyEntry>,
        config: PoolConfig,
        clock: Clock,
        store: Arc<dyn StateStore>,
    ) -> Self {
        let n = keys.len();
        let key_hashes = keys
            .iter()
            .map(|e| crate::strategy::session_hash(e.key.fingerprint().id()))
            .collect();
        KeyPool {
            name: name.into(),
            keys,
            key_hashes,
            config,
            clock,
            store,
            state: Mutex::new(PoolState {
                health: vec![KeyHealth::default(); n],
                requests: vec![0; n],
                outcomes: vec![ClassCounts::default(); n],
                last_class: vec![None; n],
                inflight: vec![0; n],
                rotation: Rotation::new(n),
                recent: VecDeque::new(),
                learned_groups: vec![None; n],
                usage: vec![Vec::new(); n],
                activity: vec![Vec::new(); n],
                history: vec![MinuteHistory::default(); n],
                last_failure: vec![None; n],
                last_refresh_ms: None,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &ApiKey> {
        self.keys.iter().map(|e| &e.key)
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub(crate) fn key(&self, index: usize) -> &ApiKey {
        &self.keys[index].key
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves consistent plain data behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Folds in what other processes wrote to the store, at most once per
    /// `refresh_interval`. Store failures keep the local view.
    pub async fn refresh(&self) {
        let now = self.clock.now_ms();
        {
            let mut state = self.lock();
            let interval =
                u64::try_from(self.config.refresh_interval.as_millis()).unwrap_or(u64::MAX);
            if let Some(last) = state.last_refresh_ms {
                if interval > 0 && now < last.saturating_add(interval) {
                    return;
                }
            }
            state.last_refresh_ms = Some(now);
        }
        match self.store.load(&self.name).await {
            Ok(records) => {
                let mut state = self.lock();
                for record in records {
                    if let Some(i) = self
                        .keys
                        .iter()
                        .position(|e| e.key.fingerprint().id() == record.id)
                    {
                        state.health[i].merge(&record.health);
                        if !self.keys[i].budget.is_unlimited() {
                            let usage = &mut state.usage[i];
                            budget::merge_max(usage, &record.usage);
                            budget::forget_old(usage, now);
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(pool = %self.name, error = %err, "state store read failed; using local key state")
            }
        }
    }

    /// Chooses an untried key that may serve `model` now and counts it in
    /// flight: a named session's own key (rendezvous hashing), else by the
    /// pool's strategy.
    pub(crate) fn pick(
        &self,
        tried: &[bool],
        model: Option<&str>,
        session: Option<u64>,
        tokens: u64,
    ) -> Pick {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let PoolState {
            health,
            inflight,
            requests,
            rotation,
            usage,
            ..
        } = &mut *state;
        let budget_wait = |i: usize| {
            let budget = &self.keys[i].budget;
            if budget.is_unlimited() {
                0
            } else {
                budget.wait_ms(&usage[i], now, tokens)
            }
        };
        let usable =
            |i: usize| !tried[i] && health[i].is_available_for(now, model) && budget_wait(i) == 0;
        let chosen = match session {
            Some(session) => rendezvous(session, self.keys.len(), usable, |i| self.key_hashes[i]),
            None => rotation.choose(
                self.config.strategy,
                usable,
                |i| (inflight[i], requests[i]),
                |i| self.keys[i].weight,
            ),
        };
        match chosen {
            Some(i) => {
                inflight[i] += 1;
                if !self.keys[i].budget.is_unlimited() {
                    budget::forget_old(&mut usage[i], now);
                    budget::count(&mut usage[i], now, 1, tokens);
                }
                Pick::Key(i)
            }
            None => {
                // (when usable, waiting for the budget rather than a cooldown)
                let first = (0..self.keys.len())
                    .filter(|&i| !tried[i] && !health[i].is_disabled())
                    .map(|i| {
                        let cooled = health[i].available_at_ms(model).max(now);
                        let budgeted = now + budget_wait(i);
                        (cooled.max(budgeted), budgeted > cooled)
                    })
                    .min();
                Pick::None {
                    earliest_ms: first.map(|(at, _)| at),
                    all_disabled: health.iter().all(KeyHealth::is_disabled),
                    over_budget: first.is_some_and(|(_, budget)| budget),
                }
            }
        }
    }

    /// Whether key `index` may serve `model` now, within its budget (for a
    /// same-key retry); if so it is counted in flight and against the budget.
    pub(crate) fn take_if_available(&self, index: usize, model: Option<&str>, tokens: u64) -> bool {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let budget = &self.keys[index].budget;
        let ok = state.health[index].is_available_for(now, model)
            && (budget.is_unlimited() || budget.wait_ms(&state.usage[index], now, tokens) == 0);
        if ok {
            state.inflight[index] += 1;
            if !budget.is_unlimited() {
                budget::count(&mut state.usage[index], now, 1, tokens);
            }
        }
        ok
    }

    /// Releases a picked key without an outcome (the attempt was cancelled).
    pub(crate) fn release(&self, index: usize) {
        let mut state = self.lock();
        state.inflight[index] = state.inflight[index].saturating_sub(1);
    }

    /// The state of every key, in configuration order.
    pub fn snapshot(&self) -> Vec<KeySnapshot> {
        let now = self.clock.now_ms();
        let state = self.lock();
        self.keys
            .iter()
            .enumerate()
            .map(|(i, entry)| {
                let health = &state.health[i];
                KeySnapshot {
                    key: entry.key.fingerprint().clone(),
                    id: entry.key.fingerprint().id().to_owned(),
                    state: health.state(now),
                    cooldown_remaining_ms: health.cooling_until_ms.saturating_sub(now),
                    cooling_class: health
                        .is_cooling(now)
                        .then_some(health.cooling_class)
                        .flatten(),
                    disabled_reason: health
                        .is_disabled()
                        .then(|| health.disabled_reason.clone())
                        .flatten(),
                    requests: state.requests[i],
                    failures: state.outcomes[i].failures(),
                    outcomes: state.outcomes[i],
                    last_class: state.last_class[i],
                    inflight: state.inflight[i],
                    recent_requests: state.activity[i]
                        .iter()
                        .filter(|b| b.counts_at(now))
                        .map(|b| b.requests)
                        .sum(),
                    last_failure: state.last_failure[i],
                    history: state.history[i].last_hour(now),
                    budget: Some(entry.budget).filter(|b| !b.is_unlimited()),
                    group: self.group_of(&state, i).map(str::to_owned),
                    model_cooldowns: health
                        .scoped_at(now)
                        .map(|c| ModelCooldown {
                            model: c.model.clone(),
                            remaining_ms: c.until_ms - now,
                            class: c.class,
                        })
                        .collect(),
                }
            })
            .collect()
    }

    /// The fingerprint the sticky cursor points at (for tests and the key table).
    pub fn current(&self) -> Option<Fingerprint> {
        let state = self.lock();
        self.keys
            .get(state.rotation.cursor())
            .map(|e| e.key.fingerprint().clone())
    }
}

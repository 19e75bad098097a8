//! Recording how an attempt ended on its key: its health (cooldowns,
//! streaks, the sticky cursor), its counters, and the state store. An
//! attempt whose success only opened its answer (a stream) has its health
//! applied when it opens and its counters when it ends, so a stream that
//! breaks later is counted once, as the failure it was.

use super::{KeyPool, PoolState};
use crate::budget::{self, Span};
use crate::outcome::{Outcome, OutcomeClass};
use crate::record::KeyUpdate;
use crate::secret::Fingerprint;

/// Which parts of an outcome one recording applies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Recording {
    /// The attempt held a slot in flight, which this gives back.
    in_flight: bool,
    /// Cooldowns, streaks, groups and the cursor.
    health: bool,
    /// Requests, per-class counts, last class, activity and history.
    counts: bool,
}

impl Recording {
    const WHOLE: Recording = Recording {
        in_flight: true,
        health: true,
        counts: true,
    };
    const OPENED: Recording = Recording {
        in_flight: true,
        health: true,
        counts: false,
    };
    const COUNTS_ONLY: Recording = Recording {
        in_flight: false,
        health: false,
        counts: true,
    };

    /// After the attempt's slot was given back.
    fn late() -> Recording {
        Recording {
            in_flight: false,
            ..Recording::WHOLE
        }
    }
}

impl KeyPool {
    /// Records an attempt's outcome on key `index` and returns the class the
    /// pool settled on: a transient or shared-limit failure whose signature
    /// another key met within the window becomes [`OutcomeClass::ProviderDown`].
    pub(crate) async fn report(&self, index: usize, outcome: &Outcome) -> OutcomeClass {
        self.record(index, outcome, Recording::WHOLE).await
    }

    /// Records a failure found after the request's answer had started (a
    /// stream that broke mid-way): it counts against the key like any other.
    pub async fn report_late(&self, key: &Fingerprint, outcome: &Outcome) {
        if let Some(index) = self.position_of(key) {
            self.record(index, outcome, Recording::late()).await;
        }
    }

    /// Records how an attempt whose success only opened its answer (see
    /// [`crate::AttemptReply::open`]) ended: a success
    /// is counted now (its effect on the key's health was applied when it
    /// opened), a failure counts against the key like any other. Call it
    /// once per such attempt.
    pub async fn settle(&self, key: &Fingerprint, outcome: &Outcome) {
        let Some(index) = self.position_of(key) else {
            return;
        };
        let recording = if outcome.class == OutcomeClass::Success {
            Recording::COUNTS_ONLY
        } else {
            Recording::late()
        };
        self.record(index, outcome, recording).await;
    }

    /// A success that opened its answer: its effect on the key's health
    /// (streaks cleared, a "none left" hint parked) now, its counters when
    /// the answer ends ([`KeyPool::settle`]).
    pub(crate) async fn report_open(&self, index: usize, outcome: &Outcome) {
        self.record(index, outcome, Recording::OPENED).await;
    }

    fn position_of(&self, key: &Fingerprint) -> Option<usize> {
        self.keys.iter().position(|e| e.key.fingerprint() == key)
    }

    async fn record(&self, index: usize, outcome: &Outcome, how: Recording) -> OutcomeClass {
        let now = self.clock.now_ms();
        let (class, health, changed, group_health) = {
            let mut state = self.lock();
            let before = (!how.counts).then(|| state.health[index].clone());
            if how.in_flight {
                state.inflight[index] = state.inflight[index].saturating_sub(1);
            }
            let class = if how.health {
                self.settle_class(&mut state, index, outcome, now)
            } else {
                outcome.class
            };
            let settled;
            let outcome = if class == outcome.class {
                outcome
            } else {
                settled = Outcome {
                    class,
                    ..outcome.clone()
                };
                &settled
            };
            if how.health {
                self.config
                    .policy
                    .apply(&mut state.health[index], outcome, now);
            }
            if how.counts {
                state.requests[index] += 1;
                state.outcomes[index].add(class, 1);
                state.last_class[index] = Some(class);
                if class != OutcomeClass::Success {
                    state.last_failure[index] = Some((class, now));
                }
                let activity = &mut state.activity[index];
                budget::forget_old(activity, now);
                budget::count_in(activity, Span::TenSeconds, now, 1, 0);
                state.history[index].count(now, class != OutcomeClass::Success);
            }
            if let Some(group) = &outcome.group {
                if state.learned_groups[index].as_ref() != Some(group) {
                    state.learned_groups[index] = Some(group.clone());
                }
            }
            let group_health = if how.health && class == outcome.class && outcome.shared_by_group()
            {
                self.share_with_group(&mut state, index, outcome)
            } else {
                Vec::new()
            };
            // A key cooling for one model still serves the others: the
            // sticky cursor stays (requests for that model pass it over).
            if how.health && (outcome.model_scope().is_none() || class != outcome.class) {
                let PoolState {
                    health, rotation, ..
                } = &mut *state;
                rotation.settle(index, class, |i| health[i].is_available(now));
            }
            let health = state.health[index].clone();
            let changed = before.is_none_or(|before| before != health);
            (class, health, changed, group_health)
        };
        if how.counts {
            self.log_outcome(index, class, outcome);
        }
        for (i, health) in &group_health {
            let id = self.key(*i).fingerprint().id();
            if let Err(err) = self.store.merge_health(&self.name, id, health).await {
                tracing::warn!(pool = %self.name, error = %err, "state store write failed; keeping local key state");
            }
        }
        let id = self.key(index).fingerprint().id();
        if !changed {
            // An opened success that changed nothing: its counts come later.
            return class;
        }
        let written = if how.counts {
            let update = KeyUpdate {
                id,
                health: &health,
                class,
                reason: outcome.reason.as_deref(),
                at_ms: now,
            };
            self.store.record(&self.name, update).await
        } else {
            self.store.merge_health(&self.name, id, &health).await
        };
        if let Err(err) = written {
            tracing::warn!(pool = %self.name, error = %err, "state store write failed; keeping local key state");
        }
        class
    }

    fn log_outcome(&self, index: usize, class: OutcomeClass, outcome: &Outcome) {
        let key = self.key(index).fingerprint();
        let reason = outcome.reason.as_deref().unwrap_or("");
        match class {
            OutcomeClass::Success | OutcomeClass::ClientError => {
                tracing::debug!(pool = %self.name, %key, %class, reason, "attempt finished")
            }
            _ => {
                tracing::info!(pool = %self.name, %key, %class, reason, retry_after = ?outcome.retry_after, "key attempt failed")
            }
        }
    }
}

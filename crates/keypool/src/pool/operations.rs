//! What an operator (or the re-check) does to a pool: disable, reinstate,
//! carry state over a reload, flush.

use super::{KeyPool, PoolState, DISABLED_BY_ADMIN};
use crate::outcome::OutcomeClass;
use crate::secret::{ApiKey, Fingerprint};

impl KeyPool {
    /// Marks a disabled key valid again (after a successful re-check).
    pub async fn reinstate(&self, key_id: &str) -> bool {
        let Some(index) = self
            .keys
            .iter()
            .position(|e| e.key.fingerprint().id() == key_id)
        else {
            return false;
        };
        let now = self.clock.now_ms();
        let health = {
            let mut state = self.lock();
            let health = &mut state.health[index];
            health.reinstated_at_ms = now.max(health.disabled_at_ms);
            health.disabled_reason = None;
            health.clone()
        };
        if let Err(err) = self.store.merge_health(&self.name, key_id, &health).await {
            tracing::warn!(pool = %self.name, error = %err, "state store write failed; keeping local key state");
        }
        true
    }

    /// Takes a key out of service on an operator's word: disabled with the
    /// reason [`DISABLED_BY_ADMIN`], which the background re-check leaves
    /// alone. False when the pool has no key with that id.
    pub async fn disable(&self, key_id: &str) -> bool {
        let Some(index) = self.index_of(key_id) else {
            return false;
        };
        let now = self.clock.now_ms();
        let health = {
            let mut state = self.lock();
            let health = &mut state.health[index];
            health.disabled_at_ms = now.max(health.reinstated_at_ms + 1);
            health.disabled_reason = Some(DISABLED_BY_ADMIN.to_owned());
            let PoolState {
                health, rotation, ..
            } = &mut *state;
            rotation.settle(index, OutcomeClass::KeyInvalid, |i| {
                health[i].is_available(now)
            });
            state.health[index].clone()
        };
        if let Err(err) = self.store.merge_health(&self.name, key_id, &health).await {
            tracing::warn!(pool = %self.name, error = %err, "state store write failed; keeping local key state");
        }
        true
    }

    pub(super) fn index_of(&self, key_id: &str) -> Option<usize> {
        self.keys
            .iter()
            .position(|e| e.key.fingerprint().id() == key_id)
    }

    /// Takes over what `previous` (the same provider's pool before a reload)
    /// knew of each key both have: health, counters, budget usage, learned
    /// groups, and the sticky cursor. Keys new to this pool start fresh.
    pub fn inherit(&self, previous: &KeyPool) {
        let old = previous.lock();
        let mut state = self.lock();
        for (i, entry) in self.keys.iter().enumerate() {
            let Some(j) = previous.index_of(entry.key.fingerprint().id()) else {
                continue;
            };
            state.health[i] = old.health[j].clone();
            state.requests[i] = old.requests[j];
            state.outcomes[i] = old.outcomes[j];
            state.last_class[i] = old.last_class[j];
            state.learned_groups[i].clone_from(&old.learned_groups[j]);
            state.usage[i].clone_from(&old.usage[j]);
            state.activity[i].clone_from(&old.activity[j]);
            state.history[i].clone_from(&old.history[j]);
            state.last_failure[i] = old.last_failure[j];
        }
        let cursor = previous
            .keys
            .get(old.rotation.cursor())
            .and_then(|e| self.index_of(e.key.fingerprint().id()));
        if let Some(cursor) = cursor {
            state.rotation.set_cursor(cursor);
        }
        state.last_refresh_ms = old.last_refresh_ms;
    }

    /// Waits until what this pool recorded has reached its state store.
    pub async fn flush(&self) {
        if let Err(err) = self.store.flush().await {
            tracing::warn!(pool = %self.name, error = %err, "state store flush failed");
        }
    }

    /// The disabled keys, split by who disabled them: an operator
    /// ([`DISABLED_BY_ADMIN`]) first, then the provider (any other reason).
    pub fn disabled_by_whom(&self) -> (Vec<Fingerprint>, Vec<Fingerprint>) {
        let state = self.lock();
        let (mut by_operator, mut invalid) = (Vec::new(), Vec::new());
        for (entry, health) in self.keys.iter().zip(&state.health) {
            if !health.is_disabled() {
                continue;
            }
            let fingerprint = entry.key.fingerprint().clone();
            if health.disabled_reason.as_deref() == Some(DISABLED_BY_ADMIN) {
                by_operator.push(fingerprint);
            } else {
                invalid.push(fingerprint);
            }
        }
        (by_operator, invalid)
    }

    /// Keys the provider disabled, for the background re-check (not those
    /// an operator disabled).
    pub fn disabled_keys(&self) -> Vec<ApiKey> {
        let state = self.lock();
        (0..self.keys.len())
            .filter(|&i| {
                let health = &state.health[i];
                health.is_disabled() && health.disabled_reason.as_deref() != Some(DISABLED_BY_ADMIN)
            })
            .map(|i| self.keys[i].key.clone())
            .collect()
    }
}

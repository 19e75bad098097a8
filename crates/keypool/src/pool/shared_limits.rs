//! Limits keys share: quota groups cooled together, and the same failure on
//! several keys read as the provider being down.

use super::{KeyPool, PoolState};
use crate::health::KeyHealth;
use crate::outcome::{Outcome, OutcomeClass};

impl KeyPool {
    /// The quota group of key `index`: configured, else named by the provider.
    pub(super) fn group_of<'s>(&'s self, state: &'s PoolState, index: usize) -> Option<&'s str> {
        self.keys[index]
            .group
            .as_deref()
            .or(state.learned_groups[index].as_deref())
    }

    /// Gives every other key of `index`'s quota group the cooldown `outcome`
    /// just gave `index` (for its model only, when scoped): they share the
    /// limit, so trying them would only burn more requests. Returns the
    /// changed keys' health, to store.
    pub(super) fn share_with_group(
        &self,
        state: &mut PoolState,
        index: usize,
        outcome: &Outcome,
    ) -> Vec<(usize, KeyHealth)> {
        let Some(group) = self.group_of(state, index).map(str::to_owned) else {
            return Vec::new();
        };
        let source = &state.health[index];
        let model = outcome.model_scope();
        let (until, class) = match model {
            Some(model) => match source.scoped.iter().find(|c| c.model == model) {
                Some(c) => (c.until_ms, c.class),
                None => return Vec::new(),
            },
            None => match source.cooling_class {
                Some(class) => (source.cooling_until_ms, class),
                None => return Vec::new(),
            },
        };
        let members: Vec<usize> = (0..self.keys.len())
            .filter(|&i| i != index && self.group_of(state, i) == Some(group.as_str()))
            .collect();
        let mut changed = Vec::with_capacity(members.len());
        for i in members {
            let health = &mut state.health[i];
            match model {
                Some(model) => health.cool_model_until(model, until, class),
                None => health.cool_until(until, class),
            }
            changed.push((i, health.clone()));
        }
        if !changed.is_empty() {
            tracing::info!(pool = %self.name, %group, keys = changed.len() + 1, model = model.unwrap_or("*"), %class, "quota group cooled together");
        }
        changed
    }

    pub(super) fn settle_class(
        &self,
        state: &mut PoolState,
        index: usize,
        outcome: &Outcome,
        now: u64,
    ) -> OutcomeClass {
        let shared = matches!(
            outcome.class,
            OutcomeClass::Transient | OutcomeClass::RateLimited
        );
        let Some(signature) = outcome.signature.as_ref().filter(|_| shared) else {
            return outcome.class;
        };
        let window =
            u64::try_from(self.config.policy.provider_down_window.as_millis()).unwrap_or(u64::MAX);
        while state
            .recent
            .front()
            .is_some_and(|(_, _, at)| at.saturating_add(window) < now)
        {
            state.recent.pop_front();
        }
        let seen_elsewhere = state
            .recent
            .iter()
            .any(|(i, sig, _)| *i != index && sig == signature);
        state.recent.push_back((index, signature.clone(), now));
        if state.recent.len() > 64 {
            state.recent.pop_front();
        }
        if seen_elsewhere {
            OutcomeClass::ProviderDown
        } else {
            outcome.class
        }
    }
}

//! Client-side budgets as the pool spends them: sharing what was counted
//! through the state store, and correcting token estimates.

use super::KeyPool;
use crate::budget::{self, UsageBucket};
use crate::secret::Fingerprint;

impl KeyPool {
    /// Shares the request just counted against key `index`'s budget through
    /// the state store (a no-op for keys without a budget).
    pub(crate) async fn share_request(&self, index: usize) {
        if self.keys[index].budget.is_unlimited() {
            return;
        }
        let mut counted = Vec::new();
        budget::count(&mut counted, self.clock.now_ms(), 1, 0);
        self.write_usage(index, &counted).await;
    }

    /// The tokens an answer reported, against the `estimate` counted when
    /// its request went: the local count is corrected, and the state store
    /// gets the real figure.
    pub async fn report_tokens(&self, key: &Fingerprint, estimate: u64, actual: u64) {
        let Some(index) = self.keys.iter().position(|e| e.key.fingerprint() == key) else {
            return;
        };
        if self.keys[index].budget.is_unlimited() {
            return;
        }
        let now = self.clock.now_ms();
        {
            let mut state = self.lock();
            let usage = &mut state.usage[index];
            if actual >= estimate {
                budget::count(usage, now, 0, actual - estimate);
            } else {
                budget::uncount_tokens(usage, estimate - actual);
            }
        }
        let mut counted = Vec::new();
        budget::count(&mut counted, now, 0, actual);
        self.write_usage(index, &counted).await;
    }

    /// Whether any key counts tokens against a budget.
    pub fn counts_tokens(&self) -> bool {
        self.keys.iter().any(|e| e.budget.tpm.is_some())
    }

    async fn write_usage(&self, index: usize, usage: &[UsageBucket]) {
        let id = self.key(index).fingerprint().id();
        if let Err(err) = self.store.record_usage(&self.name, id, usage).await {
            tracing::warn!(pool = %self.name, error = %err, "state store write failed; keeping local budget counts");
        }
    }
}

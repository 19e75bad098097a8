//! A stream's attempt is counted on its key when the stream ends, not when
//! it opens: a stream that breaks after content went out is one failure of
//! its class, never a success and a failure (see
//! [`keypool::AttemptReply::open`]).

use std::sync::Arc;

use keypool::{Fingerprint, KeyPool, Outcome};

/// The open attempt behind a stream, to be settled once.
pub struct Settlement {
    pool: Arc<KeyPool>,
    key: Fingerprint,
    armed: bool,
}

impl Settlement {
    pub fn new(pool: Arc<KeyPool>, key: Fingerprint) -> Settlement {
        Settlement {
            pool,
            key,
            armed: true,
        }
    }

    pub fn key(&self) -> &Fingerprint {
        &self.key
    }

    /// How the stream ended, counted in the background.
    pub fn finish(mut self, outcome: Outcome) {
        self.armed = false;
        spawn_settle(self.pool.clone(), self.key.clone(), outcome);
    }

    /// How the stream ended, counted before this returns (so a next
    /// attempt sees the key as it now is).
    pub async fn finish_now(mut self, outcome: Outcome) {
        self.armed = false;
        self.pool.settle(&self.key, &outcome).await;
    }
}

impl Drop for Settlement {
    /// A stream dropped unread (its client went away, or it was not wanted):
    /// not the key's fault.
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            spawn_settle(self.pool.clone(), self.key.clone(), Outcome::success());
        }
    }
}

fn spawn_settle(pool: Arc<KeyPool>, key: Fingerprint, outcome: Outcome) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { pool.settle(&key, &outcome).await });
    }
}

//! At most one warning per interval: a store that is down fails on every
//! request, and one line per request would drown the log.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Lets one event through per `every`, and counts the ones it held back.
#[derive(Debug)]
pub struct WarnLimiter {
    every: Duration,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    last: Option<Instant>,
    suppressed: u64,
}

impl WarnLimiter {
    pub fn new(every: Duration) -> Self {
        WarnLimiter {
            every,
            state: Mutex::default(),
        }
    }

    /// `Some(n)` when a warning may go out now, `n` being how many were held
    /// back since the last one; `None` to stay quiet.
    pub fn allow(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.last {
            Some(last) if now.duration_since(last) < self.every => {
                state.suppressed += 1;
                None
            }
            _ => {
                state.last = Some(now);
                Some(std::mem::take(&mut state.suppressed))
            }
        }
    }

    /// Forgets the last warning, so the next failure after a recovery is
    /// reported at once.
    pub fn reset(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = LimiterState::default();
    }
}

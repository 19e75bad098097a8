//! Wall-clock milliseconds that follow tokio's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// Deadlines are stored as Unix milliseconds (so a store can persist and share
/// them), but read through tokio's clock so that tests under a paused clock
/// move them exactly: `now_ms` is the wall time at creation plus the tokio
/// time elapsed since.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base_ms: u64,
    base: Instant,
}

impl Clock {
    /// Starts at the system's wall time.
    pub fn system() -> Self {
        Clock::starting_at(SystemTime::now())
    }

    /// Starts at a given wall time (tests use a fixed one).
    pub fn starting_at(wall: SystemTime) -> Self {
        let base_ms = wall
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Clock {
            base_ms: u64::try_from(base_ms).unwrap_or(u64::MAX),
            base: Instant::now(),
        }
    }

    /// Unix milliseconds now.
    pub fn now_ms(&self) -> u64 {
        let elapsed = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.base_ms.saturating_add(elapsed)
    }

    /// Wall time now, for turning absolute hints into durations.
    pub fn wall(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.now_ms())
    }

    /// The tokio instant at which the wall clock reads `ms`, for sleeping until then.
    pub fn instant_at(&self, ms: u64) -> Instant {
        self.base + Duration::from_millis(ms.saturating_sub(self.base_ms))
    }
}

//! A key's attempts per minute over the last hour, for people (the
//! dashboard's sparklines). Kept in memory only: it is not key state, and
//! a restart starts it afresh.

use std::collections::VecDeque;

use serde::Serialize;

/// Attempts and failed attempts that began in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinuteCount {
    /// Unix ms of the minute's start.
    pub minute_start_ms: u64,
    pub requests: u64,
    pub failures: u64,
}

/// One key's [`MinuteCount`]s, oldest first, minutes without attempts left
/// out; never more than [`MinuteHistory::MINUTES`] of them.
#[derive(Debug, Clone, Default)]
pub struct MinuteHistory {
    minutes: VecDeque<MinuteCount>,
}

const MINUTE_MS: u64 = 60_000;

impl MinuteHistory {
    /// How far back the history reaches, in minutes (the current one included).
    pub const MINUTES: u64 = 60;

    /// Counts one attempt at `at_ms`, failed or not.
    pub fn count(&mut self, at_ms: u64, failed: bool) {
        let start = at_ms - at_ms % MINUTE_MS;
        match self.minutes.back_mut() {
            // (a clock that stepped back counts in the newest minute)
            Some(last) if last.minute_start_ms >= start => {
                last.requests += 1;
                last.failures += u64::from(failed);
            }
            _ => self.minutes.push_back(MinuteCount {
                minute_start_ms: start,
                requests: 1,
                failures: u64::from(failed),
            }),
        }
        self.forget_before(start);
    }

    /// The minutes with attempts among the last [`Self::MINUTES`] at `now_ms`.
    pub fn last_hour(&self, now_ms: u64) -> Vec<MinuteCount> {
        let first = Self::first_kept(now_ms);
        self.minutes
            .iter()
            .filter(|m| m.minute_start_ms >= first)
            .copied()
            .collect()
    }

    fn forget_before(&mut self, now_ms: u64) {
        let first = Self::first_kept(now_ms);
        while self
            .minutes
            .front()
            .is_some_and(|m| m.minute_start_ms < first)
        {
            self.minutes.pop_front();
        }
    }

    /// The start of the oldest minute still shown at `now_ms`.
    fn first_kept(now_ms: u64) -> u64 {
        let current = now_ms - now_ms % MINUTE_MS;
        current.saturating_sub((Self::MINUTES - 1) * MINUTE_MS)
    }
}

#[cfg(test)]
mod tests;

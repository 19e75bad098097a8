//! A meter's inside: its cells (what the store said, what is on its way
//! there, what is not yet sent) and the windows and limits they are read
//! against, all under the meter's lock.

use super::{Estimate, Limits, Slot, BUCKET_MS, MINUTE_MS};
use crate::team::windows::{Period, Window};

#[derive(Debug)]
pub(super) struct Cell {
    pub(super) slot: Slot,
    pub(super) stored: u64,
    pub(super) transit: u64,
    pub(super) pending: u64,
    pub(super) expires_ms: u64,
}

impl Cell {
    pub(super) fn total(&self) -> u64 {
        self.stored
            .saturating_add(self.transit)
            .saturating_add(self.pending)
    }
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) limits: Limits,
    /// The store's figures were read since the meter was (re)made.
    pub(super) loaded: bool,
    pub(super) cells: Vec<Cell>,
    pub(super) in_flight: u64,
    pub(super) reserved: Estimate,
    /// Average cost of this key's requests here (nano-USD, smoothed).
    pub(super) average_nanos: u64,
    /// The current day, week and month, until the first of them ends.
    pub(super) windows: Vec<Window>,
    pub(super) last_used_ms: u64,
}

impl State {
    pub(super) fn near(&self) -> bool {
        if self.limits.budget.is_empty() {
            return false;
        }
        let margin = self.average_nanos.saturating_mul(NEAR_REQUESTS);
        self.windows.iter().any(|window| {
            let Some(limit) = self.limits.budget_of(window.period) else {
                return false;
            };
            let spent = self.total(&Slot::Spend(window.period, window.starts_ms));
            let seen = spent.saturating_add(self.reserved.nanos);
            seen.saturating_mul(10) >= limit.saturating_mul(9)
                || seen.saturating_add(margin) >= limit
        })
    }

    /// Keeps `windows` current.
    pub(super) fn roll(&mut self, now_ms: u64) {
        if self.windows.iter().all(|w| w.contains(now_ms)) && self.windows.len() == 3 {
            return;
        }
        self.windows = Period::ALL
            .into_iter()
            .map(|p| Window::of(p, now_ms))
            .collect();
    }

    pub(super) fn unhold(&mut self, held: Estimate) {
        self.in_flight = self.in_flight.saturating_sub(1);
        self.reserved.nanos = self.reserved.nanos.saturating_sub(held.nanos);
        self.reserved.tokens = self.reserved.tokens.saturating_sub(held.tokens);
    }

    pub(super) fn cell(&mut self, slot: Slot, expires_ms: u64) -> &mut Cell {
        let at = match self.cells.iter().position(|c| c.slot == slot) {
            Some(at) => at,
            None => {
                self.cells.push(Cell {
                    slot,
                    stored: 0,
                    transit: 0,
                    pending: 0,
                    expires_ms,
                });
                self.cells.len() - 1
            }
        };
        let cell = &mut self.cells[at];
        cell.expires_ms = cell.expires_ms.max(expires_ms);
        cell
    }

    pub(super) fn add(&mut self, slot: Slot, n: u64, expires_ms: u64) {
        let cell = self.cell(slot, expires_ms);
        cell.pending = cell.pending.saturating_add(n);
    }

    pub(super) fn total(&self, slot: &Slot) -> u64 {
        self.cells
            .iter()
            .find(|c| c.slot == *slot)
            .map_or(0, Cell::total)
    }

    /// How long until the last minute's buckets leave room for `cost` more
    /// under `limit`; `None` when there is room now. A request larger than
    /// the whole limit still goes when nothing else is counted.
    pub(super) fn rate_wait(
        &self,
        now_ms: u64,
        limit: u64,
        cost: u64,
        kind: fn(u64) -> Slot,
    ) -> Option<u64> {
        let counted = |c: &Cell| match (&c.slot, kind(0)) {
            (Slot::Requests(b), Slot::Requests(_)) | (Slot::Tokens(b), Slot::Tokens(_)) => {
                let n = c.total();
                (n > 0 && (b + 1) * BUCKET_MS + MINUTE_MS > now_ms).then_some((*b, n))
            }
            _ => None,
        };
        let mut used: u64 = self.cells.iter().filter_map(counted).map(|(_, n)| n).sum();
        if used == 0 || used.saturating_add(cost) <= limit {
            return None;
        }
        // Over the limit (rare): when the oldest buckets leave the minute.
        let mut live: Vec<(u64, u64)> = self.cells.iter().filter_map(counted).collect();
        live.sort_unstable();
        for (bucket, n) in live {
            used -= n;
            if used == 0 || used.saturating_add(cost) <= limit {
                return Some(((bucket + 1) * BUCKET_MS + MINUTE_MS).saturating_sub(now_ms));
            }
        }
        Some(MINUTE_MS)
    }
}

/// A key within this many of its average requests of a budget counts
/// strictly (see [`Meter::near`]).
pub(super) const NEAR_REQUESTS: u64 = 8;

/// A rate bucket's counter lives until it leaves the last minute, and a
/// little longer for replicas whose clocks differ.
pub(super) fn rate_expiry(bucket: u64) -> u64 {
    (bucket + 1) * BUCKET_MS + MINUTE_MS + BUCKET_MS
}

/// The store's name of a cell of key `id`.
pub fn counter_name(id: &str, slot: &Slot) -> String {
    match slot {
        Slot::Spend(period, starts_ms) => {
            let label = Window::of(*period, *starts_ms).label;
            let kind = match period {
                Period::Day => "d",
                Period::Week => "w",
                Period::Month => "m",
            };
            format!("vk:{id}:{kind}:{label}")
        }
        Slot::Requests(bucket) => format!("vk:{id}:r:{bucket}"),
        Slot::Tokens(bucket) => format!("vk:{id}:t:{bucket}"),
    }
}

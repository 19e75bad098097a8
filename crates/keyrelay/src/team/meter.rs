//! One virtual key's budgets and rate limits, counted as every replica
//! counts them.
//!
//! A meter holds cells: the key's spend in this day, week and month (nano-
//! USD), and its requests and tokens per 10-second bucket. Each cell is
//! what the store last said (`stored`), plus increments on their way there
//! (`transit`) and increments not yet sent (`pending`). The ledger sends
//! pending increments and reads the store back a few times a second, so
//! what other replicas spent arrives here within that delay.
//!
//! A request is admitted while the key is under every limit, counting what
//! requests in flight are expected to cost (the key's average cost per
//! request so far, at least the estimate of the request itself). So
//! concurrent requests overshoot a budget by at most the ones already in
//! flight.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::windows::{Period, Window};
use crate::store::team::{CounterAdd, UsdBudget, VirtualKey};

/// Rate limits count requests and tokens in 10-second buckets; a bucket
/// counts while any of it lies within the last minute, so a limit errs on
/// the safe side by at most one bucket.
pub const BUCKET_MS: u64 = 10_000;
const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// The limits a meter enforces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub budget: UsdBudget,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
}

impl Limits {
    pub fn of(key: &VirtualKey) -> Limits {
        Limits {
            budget: key.budget,
            rpm: key.rpm,
            tpm: key.tpm,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.budget.is_empty() && self.rpm.is_none() && self.tpm.is_none()
    }

    fn budget_of(&self, period: Period) -> Option<u64> {
        match period {
            Period::Day => self.budget.day,
            Period::Week => self.budget.week,
            Period::Month => self.budget.month,
        }
    }
}

/// What a cell counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// Nano-USD spent in the window of this period that starts at this
    /// Unix ms.
    Spend(Period, u64),
    Requests(u64),
    Tokens(u64),
}

/// What the store must be read for before a request is admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// The meter never read the store's figures.
    Load,
    /// Near a budget: the store's figures of the moment decide.
    Refresh,
}

/// Why a request is not admitted (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Read the store, then admit with `fresh`.
    Read(Before),
    Over(Over),
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Over {
    Budget {
        period: Period,
        spent_nanos: u64,
        limit_nanos: u64,
        resets_at_ms: u64,
    },
    Rpm {
        limit: u64,
        retry_after_ms: u64,
    },
    Tpm {
        limit: u64,
        retry_after_ms: u64,
    },
}

/// What one request is expected to cost, held while it is in flight.
#[derive(Debug, Clone, Copy, Default)]
pub struct Estimate {
    pub nanos: u64,
    pub tokens: u64,
    /// Admitted without limits: counted in flight only, without the lock.
    pub unlimited: bool,
}

#[derive(Debug)]
pub struct Meter {
    id: String,
    /// The key has no limit: its requests are not held against anything,
    /// which takes no lock (a key without limits costs next to nothing).
    unlimited: AtomicBool,
    /// The key's requests between the front door and their record.
    in_flight: AtomicU64,
    state: Mutex<State>,
}

/// A meter's current windows and figures, for views.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Spend (nano-USD) this day, week and month, and when each resets.
    pub spent: [(u64, u64); 3],
    pub requests_last_minute: u64,
    pub tokens_last_minute: u64,
    pub in_flight: u64,
}

impl Meter {
    pub fn new(id: &str, limits: Limits) -> Arc<Meter> {
        Arc::new(Meter {
            id: id.to_owned(),
            unlimited: AtomicBool::new(limits.is_empty()),
            in_flight: AtomicU64::new(0),
            state: Mutex::new(State {
                limits,
                ..State::default()
            }),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_limits(&self, limits: Limits) {
        let mut state = self.state();
        state.limits = limits;
        self.unlimited.store(limits.is_empty(), Ordering::Release);
    }

    /// Whether the key has no limit at all.
    pub fn is_unlimited(&self) -> bool {
        self.unlimited.load(Ordering::Acquire)
    }

    /// A request of the key reached the front door…
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// …and its record is written.
    pub fn ended(&self) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn limits(&self) -> Limits {
        self.state().limits
    }

    /// Admits a request expected to cost about `estimate`, or says which
    /// limit it would pass, or (unless `fresh`: the store was just read)
    /// that the store must be read first. An admitted request counts as in
    /// flight until [`Meter::settle`] or [`Meter::release`].
    pub fn admit(&self, now_ms: u64, estimate: Estimate, fresh: bool) -> Result<Estimate, Gate> {
        if self.unlimited.load(Ordering::Acquire) {
            // Nothing to count against.
            return Ok(Estimate {
                unlimited: true,
                ..Estimate::default()
            });
        }
        let mut state = self.state();
        state.roll(now_ms);
        if !fresh && !state.loaded {
            return Err(Gate::Read(Before::Load));
        }
        if !fresh && state.near() {
            // Near a budget, the store's figure of the moment decides.
            return Err(Gate::Read(Before::Refresh));
        }
        state.last_used_ms = now_ms;
        let limits = state.limits;
        let held = Estimate {
            nanos: estimate.nanos.max(state.average_nanos),
            tokens: estimate.tokens,
            unlimited: false,
        };
        for at in 0..state.windows.len() {
            let period = state.windows[at].period;
            let Some(limit) = limits.budget_of(period) else {
                continue;
            };
            let starts_ms = state.windows[at].starts_ms;
            let spent = state.total(&Slot::Spend(period, starts_ms));
            if spent.saturating_add(state.reserved.nanos) >= limit {
                return Err(Gate::Over(Over::Budget {
                    period,
                    spent_nanos: spent,
                    limit_nanos: limit,
                    resets_at_ms: state.windows[at].ends_ms,
                }));
            }
        }
        let bucket = now_ms / BUCKET_MS;
        if let Some(limit) = limits.rpm {
            if let Some(retry_after_ms) = state.rate_wait(now_ms, limit, 1, Slot::Requests) {
                return Err(Gate::Over(Over::Rpm {
                    limit,
                    retry_after_ms,
                }));
            }
        }
        if let Some(limit) = limits.tpm {
            let cost = held.tokens.saturating_add(state.reserved.tokens);
            if let Some(retry_after_ms) = state.rate_wait(now_ms, limit, cost, Slot::Tokens) {
                return Err(Gate::Over(Over::Tpm {
                    limit,
                    retry_after_ms,
                }));
            }
        }
        if limits.rpm.is_some() {
            state.add(Slot::Requests(bucket), 1, rate_expiry(bucket));
        }
        state.in_flight += 1;
        state.reserved.nanos = state.reserved.nanos.saturating_add(held.nanos);
        state.reserved.tokens = state.reserved.tokens.saturating_add(held.tokens);
        Ok(held)
    }

    /// Ends an admitted request that cost `nanos` (`None`: unknown) and
    /// used `tokens`.
    /// Whether the key is now [near](Meter::near) a budget.
    pub fn settle(&self, held: Estimate, nanos: Option<u64>, tokens: u64, now_ms: u64) -> bool {
        if held.unlimited {
            return false;
        }
        let mut state = self.state();
        state.unhold(held);
        if state.limits.is_empty() {
            return false;
        }
        state.roll(now_ms);
        if let Some(nanos) = nanos.filter(|n| *n > 0) {
            state.average_nanos = if state.average_nanos == 0 {
                nanos
            } else {
                (state.average_nanos * 7 + nanos) / 8
            };
            for at in 0..state.windows.len() {
                let window = &state.windows[at];
                if state.limits.budget_of(window.period).is_some() {
                    let slot = Slot::Spend(window.period, window.starts_ms);
                    let expires = window.ends_ms + DAY_MS;
                    state.add(slot, nanos, expires);
                }
            }
        }
        if tokens > 0 && state.limits.tpm.is_some() {
            let bucket = now_ms / BUCKET_MS;
            state.add(Slot::Tokens(bucket), tokens, rate_expiry(bucket));
        }
        state.near()
    }

    /// Ends an admitted request that cost nothing.
    pub fn release(&self, held: Estimate) {
        if !held.unlimited {
            self.state().unhold(held);
        }
    }

    /// Moves pending increments into transit and returns them as counter
    /// increments for the store; forgets cells that no longer count.
    pub fn take_increments(&self, now_ms: u64) -> Vec<CounterAdd> {
        let mut state = self.state();
        state
            .cells
            .retain(|c| c.expires_ms > now_ms || c.pending > 0 || c.transit > 0);
        let id = &self.id;
        let mut adds = Vec::new();
        for cell in state.cells.iter_mut().filter(|c| c.pending > 0) {
            adds.push(CounterAdd {
                name: counter_name(id, &cell.slot),
                add: cell.pending,
                expires_at_ms: cell.expires_ms,
            });
            cell.transit = cell.transit.saturating_add(cell.pending);
            cell.pending = 0;
        }
        adds
    }

    /// After a write: `delivered` says whether the increments in transit
    /// reached the store, `maybe` whether they may have (a timeout). Sure
    /// failures are sent again; unknown ones stay counted here only.
    pub fn after_write(&self, delivered: bool, maybe: bool) {
        let mut state = self.state();
        for cell in &mut state.cells {
            if delivered {
                continue;
            }
            if maybe {
                cell.stored = cell.stored.saturating_add(cell.transit);
            } else {
                cell.pending = cell.pending.saturating_add(cell.transit);
            }
            cell.transit = 0;
        }
    }

    /// The cells worth reading from the store now, and their counter names.
    pub fn to_read(&self, now_ms: u64) -> Vec<(Slot, String)> {
        let mut state = self.state();
        state.roll(now_ms);
        let limits = state.limits;
        let mut slots = Vec::new();
        for window in &state.windows {
            if limits.budget_of(window.period).is_some() {
                slots.push(Slot::Spend(window.period, window.starts_ms));
            }
        }
        let newest = now_ms / BUCKET_MS;
        let oldest = (now_ms.saturating_sub(MINUTE_MS) / BUCKET_MS).max(1);
        for bucket in oldest..=newest {
            if limits.rpm.is_some() {
                slots.push(Slot::Requests(bucket));
            }
            if limits.tpm.is_some() {
                slots.push(Slot::Tokens(bucket));
            }
        }
        slots
            .into_iter()
            .map(|slot| {
                let name = counter_name(&self.id, &slot);
                (slot, name)
            })
            .collect()
    }

    /// Takes the store's `values` for `read` (from [`Meter::to_read`]);
    /// increments in transit are in them. Cells not read keep what they
    /// had in transit as stored.
    pub fn after_read(&self, read: &[(Slot, String)], values: &[u64], now_ms: u64) {
        let mut state = self.state();
        state.loaded = true;
        for cell in &mut state.cells {
            cell.stored = cell.stored.saturating_add(cell.transit);
            cell.transit = 0;
        }
        for ((slot, _), value) in read.iter().zip(values) {
            let expires = match slot {
                Slot::Spend(period, starts_ms) => state
                    .windows
                    .iter()
                    .find(|w| w.period == *period && w.starts_ms == *starts_ms)
                    .map_or(now_ms + DAY_MS, |w| w.ends_ms + DAY_MS),
                Slot::Requests(b) | Slot::Tokens(b) => rate_expiry(*b),
            };
            // The store's counters only grow within a window: the larger
            // of what it says and what this meter counted is never short,
            // whether or not increments still on their way are in it.
            let cell = state.cell(slot.clone(), expires);
            cell.stored = cell.stored.max(*value);
        }
    }

    /// Whether the key is close enough to a budget that replicas must not
    /// act on figures a sync old: within the last 10 % of it, or within
    /// [`NEAR_REQUESTS`] of its average request. Then a request reads the
    /// store before it starts and writes its spend before it ends.
    pub fn near(&self, now_ms: u64) -> bool {
        let mut state = self.state();
        state.roll(now_ms);
        state.near()
    }

    /// Counts increments that reached the store as stored, for a meter
    /// that was not read back.
    pub fn fold_transit(&self) {
        for cell in &mut self.state().cells {
            cell.stored = cell.stored.saturating_add(cell.transit);
            cell.transit = 0;
        }
    }

    /// Marks the figures stale after a failed read, so the next admission
    /// does not wait for the store again (the ledger keeps trying).
    pub fn loaded_anyway(&self) {
        self.state().loaded = true;
    }

    /// Idle since `since_ms` with nothing to send: the next request reads
    /// the store again first (other replicas may have spent meanwhile).
    pub fn forget_if_idle(&self, since_ms: u64) -> bool {
        let mut state = self.state();
        let idle = state.last_used_ms < since_ms
            && state.in_flight == 0
            && state.cells.iter().all(|c| c.pending == 0 && c.transit == 0);
        if idle {
            state.loaded = false;
        }
        idle
    }

    pub fn is_active(&self, since_ms: u64) -> bool {
        let state = self.state();
        state.loaded && (state.last_used_ms >= since_ms || state.in_flight > 0)
    }

    pub fn has_pending(&self) -> bool {
        self.state().cells.iter().any(|c| c.pending > 0)
    }

    /// The current figures.
    pub fn reading(&self, now_ms: u64) -> Reading {
        let mut state = self.state();
        state.roll(now_ms);
        let mut reading = Reading {
            in_flight: self.in_flight.load(Ordering::Relaxed),
            ..Reading::default()
        };
        for (at, period) in Period::ALL.into_iter().enumerate() {
            let window = Window::of(period, now_ms);
            reading.spent[at] = (
                state.total(&Slot::Spend(period, window.starts_ms)),
                window.ends_ms,
            );
        }
        let counted = |b: u64| (b + 1) * BUCKET_MS + MINUTE_MS > now_ms;
        for cell in &state.cells {
            match cell.slot {
                Slot::Requests(b) if counted(b) => reading.requests_last_minute += cell.total(),
                Slot::Tokens(b) if counted(b) => reading.tokens_last_minute += cell.total(),
                _ => {}
            }
        }
        reading
    }
}

mod state;

pub use state::counter_name;
use state::{rate_expiry, State};

#[cfg(test)]
mod tests;

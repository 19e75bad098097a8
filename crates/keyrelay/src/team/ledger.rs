//! Where spend goes: every answer's usage and cost, kept in memory and
//! written to the store a few times a second, one batch per write (rows per
//! day and dimension, and the meters' counters), never on a request's way.
//! The same pass reads the meters' counters back, which is how a replica
//! learns what the others spent.
//!
//! A write that certainly changed nothing is retried with the next batch; a
//! write whose outcome is unknown (a timeout) is not repeated, so nothing
//! counts twice (and a few requests' spend may be missing from the store).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keypool::Clock;

use super::meter::{Limits, Meter};
use super::windows::date_of_day;
use crate::store::team::{Dimension, SpendBatch, SpendCounts, SpendRow, TeamError, TeamStore};
use crate::store::warn::WarnLimiter;

/// A meter unused this long reads the store again before its next request.
const IDLE_MS: u64 = 120_000;

mod books;

use books::{RowKey, Shelves};
pub use books::{Spent, Totals};

pub struct Ledger {
    store: Arc<dyn TeamStore>,
    clock: Clock,
    /// Longest wait for one store call.
    timeout: Duration,
    books: Shelves,
    meters: Mutex<HashMap<String, Arc<Meter>>>,
    warn: Arc<WarnLimiter>,
    /// One write at a time: a meter's increments in transit belong to one
    /// write, so a failed one gives back only its own.
    writing: tokio::sync::Mutex<()>,
}

impl Ledger {
    /// `warn` limits warnings about the store (shared with its other users).
    pub fn new(
        store: Arc<dyn TeamStore>,
        clock: Clock,
        timeout: Duration,
        warn: Arc<WarnLimiter>,
    ) -> Ledger {
        Ledger {
            store,
            clock,
            timeout,
            books: Shelves::default(),
            meters: Mutex::default(),
            warn,
            writing: tokio::sync::Mutex::new(()),
        }
    }

    fn meters(&self) -> MutexGuard<'_, HashMap<String, Arc<Meter>>> {
        self.meters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The meter of key `id`, made on first use, with `limits` from now on.
    pub fn meter(&self, id: &str, limits: Limits) -> Arc<Meter> {
        let mut meters = self.meters();
        if let Some(meter) = meters.get(id) {
            meter.set_limits(limits);
            return meter.clone();
        }
        let meter = Meter::new(id, limits);
        meters.insert(id.to_owned(), meter.clone());
        meter
    }

    /// Forgets the meters of keys that are gone, once nothing is pending.
    pub fn keep_meters(&self, ids: &[&str]) {
        self.meters()
            .retain(|id, meter| ids.contains(&id.as_str()) || meter.has_pending());
    }

    /// Books one answer's spend (memory only; the next sync writes it).
    pub fn record(&self, spent: &Spent<'_>) {
        self.books.record(spent);
    }

    /// Spend since start, for `/metrics`.
    pub fn totals(&self) -> Totals {
        self.books.totals()
    }

    /// Reads the store's figures for one meter before its first request.
    pub async fn load(&self, meter: &Meter) {
        let now_ms = self.clock.now_ms();
        let read = meter.to_read(now_ms);
        let names: Vec<String> = read.iter().map(|(_, name)| name.clone()).collect();
        match self.call(self.store.counters(&names, now_ms)).await {
            Ok(values) => meter.after_read(&read, &values, now_ms),
            Err(err) => {
                self.failed("read", &err);
                meter.loaded_anyway();
            }
        }
    }

    /// Reads one meter's figures from the store now (a key near its
    /// budget), waiting at most `within`.
    pub async fn refresh(&self, meter: &Meter, within: Duration) {
        let now_ms = self.clock.now_ms();
        let read = meter.to_read(now_ms);
        let names: Vec<String> = read.iter().map(|(_, name)| name.clone()).collect();
        let call = self.store.counters(&names, now_ms);
        match tokio::time::timeout(within, call).await {
            Ok(Ok(values)) => meter.after_read(&read, &values, now_ms),
            Ok(Err(err)) => self.failed("read", &err),
            Err(_) => self.failed("read", &TeamError::TimedOut(within.as_millis())),
        }
    }

    /// Writes one meter's pending increments now (a key near its budget),
    /// so the next request on any replica sees them.
    pub async fn write_through(&self, meter: &Meter) {
        let _one_at_a_time = self.writing.lock().await;
        let now_ms = self.clock.now_ms();
        let counters = meter.take_increments(now_ms);
        if counters.is_empty() {
            return;
        }
        let batch = SpendBatch {
            rows: Vec::new(),
            counters,
        };
        let written = self.call(self.store.add_spend(&batch)).await;
        if let Err(err) = &written {
            self.failed("write", err);
        }
        meter.after_write(
            written.is_ok(),
            written.as_ref().is_err_and(|e| !e.changed_nothing()),
        );
        // In the store now: what is read next includes it.
        meter.fold_transit();
    }

    /// Writes what is pending, then reads every active meter back. Runs a
    /// few times a second, and once more at shutdown.
    pub async fn sync(&self) {
        let _one_at_a_time = self.writing.lock().await;
        let now_ms = self.clock.now_ms();
        let meters: Vec<Arc<Meter>> = self.meters().values().cloned().collect();
        let pending = self.books.take_pending();
        let batch = SpendBatch {
            rows: rows_of(&pending),
            counters: meters
                .iter()
                .flat_map(|m| m.take_increments(now_ms))
                .collect(),
        };
        if !batch.is_empty() {
            let written = self.call(self.store.add_spend(&batch)).await;
            if let Err(err) = &written {
                self.failed("write", err);
                if err.changed_nothing() {
                    self.books.give_back(pending);
                }
            }
            for meter in &meters {
                meter.after_write(
                    written.is_ok(),
                    written.as_ref().is_err_and(|e| !e.changed_nothing()),
                );
            }
        }
        let since = now_ms.saturating_sub(IDLE_MS);
        let active: Vec<&Arc<Meter>> = meters.iter().filter(|m| m.is_active(since)).collect();
        let reads: Vec<_> = active.iter().map(|m| m.to_read(now_ms)).collect();
        let names: Vec<String> = reads
            .iter()
            .flatten()
            .map(|(_, name)| name.clone())
            .collect();
        if !names.is_empty() {
            match self.call(self.store.counters(&names, now_ms)).await {
                Ok(values) => {
                    let mut values = values.as_slice();
                    for (meter, read) in active.iter().zip(&reads) {
                        let (mine, rest) = values.split_at(read.len().min(values.len()));
                        meter.after_read(read, mine, now_ms);
                        values = rest;
                    }
                }
                Err(err) => {
                    self.failed("read", &err);
                    active.iter().for_each(|m| m.fold_transit());
                }
            }
        }
        for meter in &meters {
            if !active.iter().any(|a| Arc::ptr_eq(a, meter)) {
                meter.fold_transit();
            }
            meter.forget_if_idle(since);
        }
    }

    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, TeamError>>,
    ) -> Result<T, TeamError> {
        tokio::time::timeout(self.timeout, call)
            .await
            .unwrap_or(Err(TeamError::TimedOut(self.timeout.as_millis())))
    }

    fn failed(&self, what: &str, error: &TeamError) {
        if let Some(suppressed) = self.warn.allow() {
            tracing::warn!(%error, suppressed, "spend {what} to the state store failed; budgets count this process's spend only until it answers");
        }
    }
}

/// Rows per day and dimension, coalesced.
fn rows_of(pending: &[(RowKey, SpendCounts)]) -> Vec<SpendRow> {
    let mut rows: BTreeMap<(u64, Dimension, String), SpendCounts> = BTreeMap::new();
    for (row, counts) in pending {
        let model = row.model.as_ref().map(|m| format!("{}@{m}", row.provider));
        let names = [
            (Dimension::Key, row.key.as_ref().map(ToString::to_string)),
            (Dimension::Team, row.team.as_ref().map(ToString::to_string)),
            (Dimension::Model, model),
            (Dimension::Provider, Some(row.provider.clone())),
            (
                Dimension::ProviderKey,
                row.provider_key
                    .as_ref()
                    .map(|id| format!("{}/{id}", row.provider)),
            ),
        ];
        for (dimension, name) in names {
            if let Some(name) = name {
                rows.entry((row.day, dimension, name))
                    .or_default()
                    .add(counts);
            }
        }
    }
    rows.into_iter()
        .map(|((day, dimension, name), counts)| SpendRow {
            day: date_of_day(day).format("%Y-%m-%d").to_string(),
            dimension,
            name,
            counts,
        })
        .collect()
}

#[cfg(test)]
mod tests;

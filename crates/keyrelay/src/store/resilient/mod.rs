//! A persistent store whose faults never fail a request.
//!
//! - Every update lands first in an in-memory mirror ([`MemoryStore`]), then
//!   in a write-behind queue that coalesces per key (health merges, counters
//!   add), so the queue is bounded by the number of keys and `record` never
//!   waits: it returns before the backend sees the update.
//! - One background task drains the queue, one batch per backend call (one
//!   SQLite transaction or one Redis script call), each bounded by `timeout`.
//! - `load` asks the backend, bounded by `timeout`; on failure, or while the
//!   backend is known to be down, it answers from the mirror at once.
//! - After a failure the writer retries every `retry_every`; the first batch
//!   that gets through carries the merged health of every key in the mirror
//!   (a resync), so what was learned while the store was down reaches it.
//! - Failures are logged at most once per `warn_every`.
//!
//! Staleness: another process's finding reaches this one after its write-behind
//! delay (milliseconds while the store is healthy) plus, at most, the pool's
//! refresh interval (1 s in the gateway). In that window this process may try
//! the key once more: at most one wasted upstream request per process, per
//! key, per window. While the backend is down, processes do not share at all.

mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use keypool::{KeyHealth, KeyRecord, KeyUpdate, MemoryStore, StateStore, StoreFuture, UsageBucket};
use tokio::sync::Notify;

use super::backend::{Backend, KeyDelta};
use super::error::OpenError;
use super::warn::WarnLimiter;

/// Tuning of [`ResilientStore`].
#[derive(Debug, Clone)]
pub struct ResilientOptions {
    /// Longest wait for one backend call (a pool's load, or a write batch).
    pub timeout: Duration,
    /// At most one warning per this interval.
    pub warn_every: Duration,
    /// Pause between write attempts while the backend is failing.
    pub retry_every: Duration,
    /// Push the whole mirror again this often even when all is well, so a
    /// backend that lost its data unnoticed (Redis restarted without
    /// persistence between two writes) converges anyway.
    pub resync_every: Duration,
    /// Most distinct keys waiting to be written. Beyond it an attempt's
    /// counters are dropped; its health still reaches the store by resync.
    pub max_pending: usize,
    /// A limiter shared with the store's other users (virtual keys and
    /// spend), so one outage warns once; `None`: its own, `warn_every`.
    pub warnings: Option<Arc<WarnLimiter>>,
}

impl Default for ResilientOptions {
    fn default() -> Self {
        ResilientOptions {
            timeout: Duration::from_millis(250),
            warn_every: Duration::from_secs(30),
            retry_every: Duration::from_secs(1),
            resync_every: Duration::from_secs(60),
            max_pending: 4096,
            warnings: None,
        }
    }
}

/// Wraps a [`Backend`]: in-memory mirror, coalescing write-behind queue,
/// timeouts, rate-limited warnings and resync (see the module docs).
/// Dropping it flushes what is pending once, in the background, and stops.
pub struct ResilientStore {
    shared: Arc<Shared>,
}

struct Shared {
    backend: Arc<dyn Backend>,
    options: ResilientOptions,
    /// Everything this process learned; answers while the backend cannot.
    mirror: MemoryStore,
    /// Pools seen, so a resync can walk the mirror.
    pools: Mutex<BTreeSet<String>>,
    pending: Mutex<Pending>,
    wake: Notify,
    /// False from a failed call until the writer gets through again; loads
    /// skip the backend meanwhile, so a dead store adds no latency.
    reachable: AtomicBool,
    closed: AtomicBool,
    /// The writer holds a batch it has taken but not yet settled.
    writing: AtomicBool,
    warn: Arc<WarnLimiter>,
}

#[derive(Default)]
struct Pending {
    /// Coalesced updates by (pool, key id).
    deltas: BTreeMap<(String, String), KeyDelta>,
    /// The next batch must carry the whole mirror.
    resync: bool,
}

impl ResilientStore {
    /// Starts the write-behind task on the current tokio runtime. The task
    /// contacts the backend at once, so a broken store is reported at start.
    pub fn start(backend: Arc<dyn Backend>, options: ResilientOptions) -> Result<Self, OpenError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| OpenError::NoRuntime)?;
        let shared = Arc::new(Shared {
            warn: options
                .warnings
                .clone()
                .unwrap_or_else(|| Arc::new(WarnLimiter::new(options.warn_every))),
            backend,
            options,
            mirror: MemoryStore::new(),
            pools: Mutex::default(),
            pending: Mutex::new(Pending {
                resync: true,
                ..Pending::default()
            }),
            wake: Notify::new(),
            reachable: AtomicBool::new(true),
            closed: AtomicBool::new(false),
            writing: AtomicBool::new(false),
        });
        runtime.spawn(writer::run(shared.clone()));
        Ok(ResilientStore { shared })
    }

    /// Whether the last backend call succeeded.
    pub fn is_reachable(&self) -> bool {
        self.shared.reachable.load(Ordering::Acquire)
    }

    /// Distinct keys waiting to be written.
    pub fn pending(&self) -> usize {
        self.shared.pending().deltas.len()
    }
}

impl Drop for ResilientStore {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // Plain data, consistent after any panic.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, pool: &str) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if !pools.contains(pool) {
            pools.insert(pool.to_owned());
        }
    }

    /// Queues `delta`, coalescing with what is already queued for its key.
    fn enqueue(&self, delta: KeyDelta) {
        let mut pending = self.pending();
        let slot = (delta.pool.clone(), delta.record.id.clone());
        if let Some(queued) = pending.deltas.get_mut(&slot) {
            queued.record.absorb(&delta.record.as_change());
        } else if pending.deltas.len() < self.options.max_pending {
            pending.deltas.insert(slot, delta);
        } else {
            // Full: keep the health (the mirror has it) for a resync.
            pending.resync = true;
        }
        drop(pending);
        self.wake.notify_one();
    }

    /// Notes a failed call: answer from memory, warn (rate-limited), and
    /// have the writer retry with a full resync.
    fn failed(&self, what: &str, error: &dyn std::fmt::Display) {
        self.reachable.store(false, Ordering::Release);
        self.pending().resync = true;
        self.wake.notify_one();
        if let Some(suppressed) = self.warn.allow() {
            tracing::warn!(
                store = %self.backend.describe(),
                error = %error,
                suppressed,
                "state store {what} failed; keeping key state in memory and retrying every {:?}",
                self.options.retry_every,
            );
        }
    }
}

impl StateStore for ResilientStore {
    fn load<'a>(&'a self, pool: &'a str) -> StoreFuture<'a, Vec<KeyRecord>> {
        Box::pin(async move {
            let shared = &self.shared;
            shared.remember(pool);
            if shared.reachable.load(Ordering::Acquire) {
                let call = shared.backend.load(pool);
                match tokio::time::timeout(shared.options.timeout, call).await {
                    Ok(Ok(records)) => return Ok(records),
                    Ok(Err(err)) => shared.failed("read", &err),
                    Err(_) => shared.failed("read", &TimedOut(shared.options.timeout)),
                }
            }
            shared.mirror.load(pool).await
        })
    }

    fn record<'a>(&'a self, pool: &'a str, update: KeyUpdate<'a>) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let shared = &self.shared;
            shared.remember(pool);
            let delta = KeyDelta::attempt(pool, &update);
            shared.mirror.record(pool, update).await?;
            shared.enqueue(delta);
            Ok(())
        })
    }

    /// Waits until nothing is queued or being written, at most four call
    /// timeouts; returns at once while the backend is down.
    fn flush(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let shared = &self.shared;
            let deadline = tokio::time::Instant::now() + shared.options.timeout * 4;
            loop {
                let idle = {
                    let pending = shared.pending();
                    pending.deltas.is_empty()
                        && !pending.resync
                        && !shared.writing.load(Ordering::Acquire)
                };
                if idle
                    || !shared.reachable.load(Ordering::Acquire)
                    || tokio::time::Instant::now() >= deadline
                {
                    return Ok(());
                }
                shared.wake.notify_one();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    }

    fn merge_health<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        health: &'a KeyHealth,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let shared = &self.shared;
            shared.remember(pool);
            shared.mirror.merge_health(pool, id, health).await?;
            shared.enqueue(KeyDelta::health_only(pool, id, health));
            Ok(())
        })
    }

    fn record_usage<'a>(
        &'a self,
        pool: &'a str,
        id: &'a str,
        usage: &'a [UsageBucket],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let shared = &self.shared;
            shared.remember(pool);
            shared.mirror.record_usage(pool, id, usage).await?;
            shared.enqueue(KeyDelta::usage_only(pool, id, usage));
            Ok(())
        })
    }
}

/// A backend call that took longer than the timeout.
#[derive(Debug)]
struct TimedOut(Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no answer within {} ms", self.0.as_millis())
    }
}

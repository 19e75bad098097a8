//! The write-behind task: drains the coalesced queue into the backend, one
//! batch per call, and resyncs the whole mirror after a failure.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use keypool::StateStore;
use tokio::time::Instant;

use super::{KeyDelta, Shared, TimedOut};

/// One backend call's worth of updates.
struct Batch {
    deltas: Vec<KeyDelta>,
    /// Carries the whole mirror (a resync).
    full: bool,
}

pub(super) async fn run(shared: Arc<Shared>) {
    let mut last_full = Instant::now();
    loop {
        let resync_due = last_full.elapsed() >= shared.options.resync_every;
        let Some(batch) = take_batch(&shared, resync_due).await else {
            if shared.closed.load(Ordering::Acquire) {
                return;
            }
            let until_resync = shared
                .options
                .resync_every
                .saturating_sub(last_full.elapsed());
            tokio::select! {
                () = shared.wake.notified() => {}
                () = tokio::time::sleep(until_resync) => {}
            }
            continue;
        };
        let call = shared.backend.apply(&batch.deltas);
        let outcome = tokio::time::timeout(shared.options.timeout, call).await;
        shared.writing.store(false, Ordering::Release);
        let failure = match outcome {
            Ok(Ok(())) => {
                if batch.full {
                    last_full = Instant::now();
                }
                succeeded(&shared, &batch);
                continue;
            }
            Ok(Err(err)) => {
                let changed_nothing = err.changed_nothing();
                shared.failed("write", &err);
                changed_nothing
            }
            Err(_) => {
                shared.failed("write", &TimedOut(shared.options.timeout));
                false
            }
        };
        // Counters go back in the queue only when the failed call certainly
        // wrote nothing; otherwise they might count twice. Health always
        // reaches the store: the retry is a resync from the mirror.
        if failure {
            let counts = |d: &&KeyDelta| d.record.requests > 0 || !d.record.usage.is_empty();
            for delta in batch.deltas.iter().filter(counts) {
                shared.enqueue(delta.clone());
            }
        }
        if shared.closed.load(Ordering::Acquire) {
            return;
        }
        tokio::time::sleep(shared.options.retry_every).await;
    }
}

/// Takes everything queued; on a resync, also the merged health of every key
/// in the mirror. `None` when there is nothing to send.
async fn take_batch(shared: &Shared, resync_due: bool) -> Option<Batch> {
    let (mut queued, full) = {
        let mut pending = shared.pending();
        let full = pending.resync || resync_due;
        if !full && pending.deltas.is_empty() {
            return None;
        }
        pending.resync = false;
        // Set under the lock, so a flush never sees an empty queue while a
        // batch is between the queue and the backend.
        shared.writing.store(true, Ordering::Release);
        (std::mem::take(&mut pending.deltas), full)
    };
    if !full {
        return Some(Batch {
            deltas: queued.into_values().collect(),
            full,
        });
    }
    let pools: Vec<String> = shared
        .pools
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .cloned()
        .collect();
    let mut deltas = BTreeMap::new();
    for pool in pools {
        // The mirror answers at once and never fails.
        let records = shared.mirror.load(&pool).await.unwrap_or_default();
        for record in records {
            let mut delta = KeyDelta::health_only(&pool, &record.id, &record.health);
            if let Some(update) = queued.remove(&(pool.clone(), record.id.clone())) {
                delta.record.absorb(&update.record.as_change());
            }
            deltas.insert((pool.clone(), record.id), delta);
        }
    }
    // Anything queued but not mirrored (not expected) still goes out.
    deltas.append(&mut queued);
    Some(Batch {
        deltas: deltas.into_values().collect(),
        full,
    })
}

fn succeeded(shared: &Shared, batch: &Batch) {
    let was_reachable = shared.reachable.swap(true, Ordering::AcqRel);
    if !was_reachable {
        shared.warn.reset();
        tracing::info!(
            store = %shared.backend.describe(),
            keys = batch.deltas.len(),
            "state store answers again; resynced key state"
        );
    }
}

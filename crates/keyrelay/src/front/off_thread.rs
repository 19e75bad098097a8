//! CPU-heavy work on a big body (translating a 100k-token request takes
//! milliseconds) runs on tokio's blocking threads, not on the async
//! workers: a gateway may run one worker (the launchers do), and every
//! other connection's requests and streams would wait behind it. Small
//! bodies stay where they are: the hand-off costs more than their work.
//!
//! At most one such piece of work runs per core beyond the first (one on
//! two cores): the async workers keep a core for everything else, and the
//! memory a translation takes while it runs (the parsed request, the
//! translated document) is bounded however many big requests arrive at
//! once; the others wait their turn holding only their bytes.

use std::sync::OnceLock;

use axum::http::StatusCode;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ErrorKind};

/// Bodies from this size up are worked on off the async workers (about
/// 8k tokens; below it a translation takes well under a millisecond).
pub const OFF_THREAD_BYTES: usize = 32 * 1024;

/// `work`'s result, computed off the async workers when `bytes` (the size
/// of what it reads) is at least [`OFF_THREAD_BYTES`]. A panic in it is
/// keyrelay's internal error (500) for this request alone.
pub async fn run<T: Send + 'static>(
    bytes: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    if bytes < OFF_THREAD_BYTES {
        return Ok(work());
    }
    let turn = turns().acquire().await;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|error| {
        // The panic payload is not echoed: it could hold request data.
        tracing::error!(panicked = error.is_panic(), "work on a big body failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Api,
            "keyrelay: internal error while translating",
        )
    })
}

/// The turns big work takes, one per core beyond the first (at least one).
fn turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cores.saturating_sub(1).max(1))
    })
}

#[cfg(test)]
mod tests;

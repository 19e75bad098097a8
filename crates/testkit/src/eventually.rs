//! Waiting for a condition in a test: poll it on the tokio clock, with a bound.
//!
//! A fixed sleep either wastes time or is too short on a loaded machine; a
//! check polled until it passes is neither. Both functions poll every
//! [`POLL_EVERY`] of tokio time, so under a paused test clock
//! (`#[tokio::test(start_paused = true)]`) the waits advance virtual time and
//! a test that times out fails at once. Real work the check waits for (a
//! child process, a socket) still needs real time: give such a check a bound
//! with room for a slow machine, and do not pause the clock while it runs.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often a check is repeated, on the tokio clock.
pub const POLL_EVERY: Duration = Duration::from_millis(10);

/// What a check returns: `true`, `Some(value)` or `Ok(value)` when it passes.
/// A `Result`'s error is what the check saw instead, shown when the wait
/// times out.
pub trait Verdict {
    /// What the wait returns once the check passes.
    type Value;

    /// `Ok(value)` when the check passed; otherwise what it saw, if it says.
    fn into_result(self) -> Result<Self::Value, Option<String>>;
}

impl Verdict for bool {
    type Value = ();

    fn into_result(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Verdict for Option<T> {
    type Value = T;

    fn into_result(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: Debug> Verdict for Result<T, E> {
    type Value = T;

    fn into_result(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(format!("{seen:?}")))
    }
}

/// Runs `check` at once and then every [`POLL_EVERY`] until it passes, and
/// returns its value. Panics naming `what` (and what the check last saw,
/// when it returns a `Result`) once `within` of tokio time has passed.
pub async fn eventually<V: Verdict>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> V,
) -> V::Value {
    eventually_async(what, within, || std::future::ready(check())).await
}

/// [`eventually`] for a check that has to await (a store read, a request).
/// A check still running when `within` has passed is abandoned, and the
/// wait panics.
pub async fn eventually_async<V, F>(
    what: &str,
    within: Duration,
    mut check: impl FnMut() -> F,
) -> V::Value
where
    V: Verdict,
    F: Future<Output = V>,
{
    let deadline = Instant::now() + within;
    loop {
        // A check that is ready at once always counts, even at the deadline.
        let seen = match tokio::time::timeout_at(deadline, check()).await {
            Ok(verdict) => match verdict.into_result() {
                Ok(value) => return value,
                Err(seen) => seen,
            },
            Err(_) => Some("a check that had not finished".to_owned()),
        };
        let now = Instant::now();
        if now >= deadline {
            match seen {
                Some(seen) => {
                    panic!("timed out after {within:?} waiting for {what}; last saw {seen}")
                }
                None => panic!("timed out after {within:?} waiting for {what}"),
            }
        }
        tokio::time::sleep_until((now + POLL_EVERY).min(deadline)).await;
    }
}

#[cfg(test)]
mod tests;

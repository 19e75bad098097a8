//! Running one request over the pool: each key at most once, a small
//! same-key budget for transient errors, one overall deadline.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::outcome::{Outcome, OutcomeClass};
use crate::pool::{KeyPool, Pick};
use crate::secret::{ApiKey, Fingerprint};

/// Per-request limits.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// The whole request, every attempt and wait included, ends by then.
    pub deadline: Option<Instant>,
    /// When every key is cooling before any attempt, wait up to this long for
    /// the first to recover instead of refusing at once. Zero: refuse at once.
    pub max_wait: Duration,
    /// Extra attempts on a key that failed transiently, once no fresh key is
    /// left. Separate from the one-attempt-per-key rule.
    pub same_key_retries: u32,
    /// First backoff before a same-key retry; doubles, with ±50% jitter.
    pub same_key_backoff: Duration,
    /// The model the request asks the provider for, when known: keys cooling
    /// for that model alone are passed over.
    pub model: Option<String>,
    /// The client's session ([`crate::session_hash`] of its name): the
    /// session keeps one key while it can serve, and sessions spread over
    /// the keys. `None` follows the pool's strategy.
    pub session: Option<u64>,
    /// The tokens the request is expected to cost, counted against keys'
    /// token budgets until the answer reports the real figure.
    pub tokens: u64,
    /// Keys this request already tried elsewhere (a stream that broke on
    /// them, now asked again for the rest): not picked.
    pub exclude: Vec<Fingerprint>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            deadline: None,
            max_wait: Duration::ZERO,
            same_key_retries: 1,
            same_key_backoff: Duration::from_millis(250),
            model: None,
            session: None,
            tokens: 0,
            exclude: Vec::new(),
        }
    }
}

/// What one attempt is given.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub key: ApiKey,
    /// 1 for the first attempt of the request.
    pub number: u32,
    /// The request's overall deadline, for the attempt's own timeouts.
    pub deadline: Option<Instant>,
}

/// What one attempt returns: its classified outcome and the response (or
/// error) to hand back if the executor stops here.
#[derive(Debug)]
pub struct AttemptReply<T> {
    pub outcome: Outcome,
    pub value: T,
    /// The HTTP status the attempt was answered with; `None` when no
    /// response came (connection refused, reset, timeout). Kept in the log.
    pub status: Option<u16>,
    /// The answer is still arriving (a stream): a success only opens it.
    /// Its effect on the key's health applies at once, its counters when
    /// the caller reports how the answer ended ([`KeyPool::settle`]), so a
    /// stream that breaks later is counted once, as that failure.
    pub open: bool,
}

/// One attempt as the request's log keeps it: which key, how it ended, and
/// what the provider said about coming back. Holds no key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    pub key: Fingerprint,
    /// The class the pool settled on (`ProviderDown` once it stopped rotating).
    pub class: OutcomeClass,
    /// See [`AttemptReply::status`].
    pub status: Option<u16>,
    /// The provider's own reset hint, if it gave one.
    pub retry_after: Option<Duration>,
    /// The classifier's short, secret-free reason (`rate_limit_exceeded`).
    pub reason: Option<String>,
    /// How long the attempt took, until its outcome was known.
    pub elapsed: Duration,
}

/// The response the request ends with: a success, a non-rotating failure, or
/// the last upstream failure once every key was tried.
#[derive(Debug)]
pub struct Finished<T> {
    pub value: T,
    pub key: Fingerprint,
    pub attempts: u32,
    /// The class the pool settled on for the last attempt.
    pub class: OutcomeClass,
    /// Every attempt of the request, in order; the last one is `key`'s.
    pub log: Vec<AttemptRecord>,
}

/// Why the pool answered without an upstream response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Every key is cooling; the first recovers after `retry_after`.
    Cooling { retry_after: Duration },
    /// Every usable key has spent its client-side budget (`rpm`, `tpm`,
    /// `rpd`); the first has room again after `retry_after`.
    OverBudget { retry_after: Duration },
    /// Every key is disabled: `invalid` ones because the provider (or the
    /// transport) found them unusable, `by_operator` ones on an operator's
    /// word ([`crate::DISABLED_BY_ADMIN`]).
    AllDisabled {
        invalid: Vec<Fingerprint>,
        by_operator: Vec<Fingerprint>,
    },
    /// The pool has no keys at all.
    NoKeys,
    /// The deadline passed before any attempt could answer.
    DeadlineExceeded { attempts: u32 },
    /// Every key that could serve was already tried for this request
    /// ([`ExecuteOptions::exclude`]).
    AllTried,
}

/// The pool's refusal with the attempts made before it (none when the pool
/// refused at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub refusal: Refusal,
    pub log: Vec<AttemptRecord>,
}

impl Refused {
    fn new(refusal: Refusal, log: Vec<AttemptRecord>) -> Self {
        Refused { refusal, log }
    }
}

/// The attempt the request would end with if no key is left.
struct Last<T> {
    value: T,
    index: usize,
    class: OutcomeClass,
}

/// Gives the in-flight count back if an attempt future is dropped mid-way.
struct InFlight<'a> {
    pool: &'a KeyPool,
    index: usize,
    armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pool.release(self.index);
        }
    }
}

impl KeyPool {
    /// Runs `attempt` with one key after another until one answers with a
    /// success or a non-rotating class, or no key is left. Never sleeps before
    /// trying a fresh key.
    pub async fn execute<T, F, Fut>(
        &self,
        options: &ExecuteOptions,
        mut attempt: F,
    ) -> Result<Finished<T>, Refused>
    where
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = AttemptReply<T>>,
    {
        if self.is_empty() {
            return Err(Refused::new(Refusal::NoKeys, Vec::new()));
        }
        self.refresh().await;
        let mut tried = vec![false; self.len()];
        for (index, key) in self.keys().enumerate() {
            tried[index] = options.exclude.contains(key.fingerprint());
        }
        let mut attempts = 0u32;
        let mut same_key_left = options.same_key_retries;
        let mut last: Option<Last<T>> = None;
        let mut log: Vec<AttemptRecord> = Vec::new();
        loop {
            if options.deadline.is_some_and(|d| Instant::now() >= d) {
                return match last {
                    Some(last) => Ok(self.finished(last, attempts, log)),
                    None => Err(Refused::new(Refusal::DeadlineExceeded { attempts }, log)),
                };
            }
            let index = match self.pick(
                &tried,
                options.model.as_deref(),
                options.session,
                options.tokens,
            ) {
                Pick::Key(index) => index,
                Pick::None {
                    earliest_ms,
                    all_disabled,
                    over_budget,
                } => {
                    if let Some(previous) = last.take() {
                        let retry = previous.class == OutcomeClass::Transient && same_key_left > 0;
                        if retry
                            && self.wait_backoff(options, same_key_left).await
                            && self.take_if_available(
                                previous.index,
                                options.model.as_deref(),
                                options.tokens,
                            )
                        {
                            same_key_left -= 1;
                            previous.index
                        } else {
                            return Ok(self.finished(previous, attempts, log));
                        }
                    } else if earliest_ms.is_none() && !all_disabled {
                        // Only keys this request already tried could serve.
                        return Err(Refused::new(Refusal::AllTried, log));
                    } else if all_disabled {
                        let (by_operator, invalid) = self.disabled_by_whom();
                        let refusal = Refusal::AllDisabled {
                            invalid,
                            by_operator,
                        };
                        return Err(Refused::new(refusal, log));
                    } else {
                        let until_ms = earliest_ms.unwrap_or_else(|| self.clock().now_ms());
                        let wait =
                            Duration::from_millis(until_ms.saturating_sub(self.clock().now_ms()));
                        let wake = self.clock().instant_at(until_ms);
                        let in_time = options.deadline.is_none_or(|d| wake < d);
                        if attempts == 0 && wait <= options.max_wait && in_time {
                            tokio::time::sleep_until(wake).await;
                            continue;
                        }
                        let retry_after = wait.max(Duration::from_millis(1));
                        let refusal = if over_budget {
                            Refusal::OverBudget { retry_after }
                        } else {
                            Refusal::Cooling { retry_after }
                        };
                        return Err(Refused::new(refusal, log));
                    }
                }
            };
            tried[index] = true;
            attempts += 1;
            self.share_request(index).await;
            let mut guard = InFlight {
                pool: self,
                index,
                armed: true,
            };
            let started = Instant::now();
            let reply = attempt(Attempt {
                key: self.key(index).clone(),
                number: attempts,
                deadline: options.deadline,
            })
            .await;
            guard.armed = false;
            let class = if reply.open && reply.outcome.class == OutcomeClass::Success {
                self.report_open(index, &reply.outcome).await;
                OutcomeClass::Success
            } else {
                self.report(index, &reply.outcome).await
            };
            log.push(AttemptRecord {
                key: self.key(index).fingerprint().clone(),
                class,
                status: reply.status,
                retry_after: reply.outcome.retry_after,
                reason: reply.outcome.reason,
                elapsed: started.elapsed(),
            });
            let done = Last {
                value: reply.value,
                index,
                class,
            };
            if !class.rotates() {
                return Ok(self.finished(done, attempts, log));
            }
            last = Some(done);
        }
    }

    fn finished<T>(&self, last: Last<T>, attempts: u32, log: Vec<AttemptRecord>) -> Finished<T> {
        Finished {
            value: last.value,
            key: self.key(last.index).fingerprint().clone(),
            attempts,
            class: last.class,
            log,
        }
    }

    /// Sleeps the jittered same-key backoff; false if the deadline would pass first.
    async fn wait_backoff(&self, options: &ExecuteOptions, left: u32) -> bool {
        let round = options.same_key_retries.saturating_sub(left);
        let base = options
            .same_key_backoff
            .saturating_mul(1u32 << round.min(10));
        let wait = base.mul_f64(0.5 + fastrand::f64());
        let wake = Instant::now() + wait;
        if options.deadline.is_some_and(|d| wake >= d) {
            return false;
        }
        tokio::time::sleep_until(wake).await;
        true
    }
}

#[cfg(test)]
mod tests;

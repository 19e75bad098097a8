//! The pool and executor under tokio's paused clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::{advance, Instant};

use crate::*;

mod log;
mod settle;

fn keys(names: &[&str]) -> Vec<KeyEntry> {
    names
        .iter()
        .map(|n| KeyEntry::from(ApiKey::new(n, Some(n))))
        .collect()
}

fn pool_with(names: &[&str], strategy: Strategy) -> KeyPool {
    pool_on(names, strategy, Arc::new(MemoryStore::new()))
}

fn pool_on(names: &[&str], strategy: Strategy, store: Arc<dyn StateStore>) -> KeyPool {
    let config = PoolConfig {
        strategy,
        ..PoolConfig::default()
    };
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_768_478_400));
    KeyPool::with_store("test", keys(names), config, clock, store)
}

fn pool(names: &[&str]) -> KeyPool {
    pool_with(names, Strategy::Sticky)
}

/// A fake upstream per key: scripted outcomes (the last repeats) and hit counts.
#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<HashMap<String, Vec<Outcome>>>>,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Script {
    fn on(&self, key: &str, outcomes: impl IntoIterator<Item = Outcome>) -> &Self {
        self.replies
            .lock()
            .unwrap()
            .insert(key.into(), outcomes.into_iter().collect());
        self
    }

    fn hits(&self, key: &str) -> usize {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|k| *k == key)
            .count()
    }

    fn total(&self) -> usize {
        self.hits.lock().unwrap().len()
    }

    fn answer(&self, attempt: &Attempt) -> AttemptReply<String> {
        let key = attempt.key.expose().to_owned();
        self.hits.lock().unwrap().push(key.clone());
        let mut replies = self.replies.lock().unwrap();
        let queue = replies.entry(key.clone()).or_default();
        let outcome = match queue.len() {
            0 => Outcome::success(),
            1 => queue[0].clone(),
            _ => queue.remove(0),
        };
        AttemptReply {
            open: false,
            value: format!("{key}:{}", outcome.class),
            status: Some(status_of(outcome.class)),
            outcome,
        }
    }

    async fn run(&self, pool: &KeyPool) -> Result<Finished<String>, Refused> {
        self.run_with(pool, &ExecuteOptions::default()).await
    }

    async fn run_with(
        &self,
        pool: &KeyPool,
        options: &ExecuteOptions,
    ) -> Result<Finished<String>, Refused> {
        pool.execute(options, |attempt| {
            let reply = self.answer(&attempt);
            async move { reply }
        })
        .await
    }
}

/// The HTTP status a scripted outcome stands for.
fn status_of(class: OutcomeClass) -> u16 {
    match class {
        OutcomeClass::Success => 200,
        OutcomeClass::ClientError => 400,
        OutcomeClass::KeyInvalid => 401,
        OutcomeClass::KeyNoCredit => 402,
        OutcomeClass::QuotaDaily | OutcomeClass::RateLimited => 429,
        OutcomeClass::Transient | OutcomeClass::ProviderDown => 503,
    }
}

fn class(c: OutcomeClass) -> Outcome {
    Outcome::new(c)
}

fn limited(secs: u64) -> Outcome {
    class(OutcomeClass::RateLimited).with_retry_after(Some(Duration::from_secs(secs)))
}

fn transient(sig: &str) -> Outcome {
    class(OutcomeClass::Transient).with_signature(sig)
}

fn state_of(pool: &KeyPool, name: &str) -> KeySnapshot {
    pool.snapshot()
        .into_iter()
        .find(|s| s.key.as_str() == name)
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn sticky_keeps_the_key_that_works() {
    let pool = pool(&["a", "b", "c"]);
    let script = Script::default();
    for _ in 0..5 {
        let done = script.run(&pool).await.unwrap();
        assert_eq!((done.key.as_str(), done.attempts), ("a", 1));
    }
    assert_eq!(script.hits("a"), 5);
}

#[tokio::test(start_paused = true)]
async fn rotates_past_an_invalid_and_a_limited_key_and_disables_the_invalid_one() {
    let pool = pool(&["bad", "busy", "good"]);
    let script = Script::default();
    script
        .on("bad", [class(OutcomeClass::KeyInvalid)])
        .on("busy", [limited(30)]);
    let started = Instant::now();
    let done = script.run(&pool).await.unwrap();
    assert_eq!(
        (done.key.as_str(), done.attempts, done.class),
        ("good", 3, OutcomeClass::Success)
    );
    assert_eq!(Instant::now(), started, "no sleep before a fresh key");
    for _ in 0..10 {
        assert_eq!(script.run(&pool).await.unwrap().attempts, 1);
    }
    assert_eq!(
        (script.hits("bad"), script.hits("busy"), script.hits("good")),
        (1, 1, 11)
    );
    assert_eq!(state_of(&pool, "bad").state, KeyState::Disabled);
    // The invalid key stays out after the rate limit has long passed.
    advance(Duration::from_secs(3600)).await;
    script.on("good", [limited(5)]);
    script.run(&pool).await.unwrap();
    assert_eq!(script.hits("bad"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_client_error_returns_at_once_without_rotation_or_penalty() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script.on("a", [class(OutcomeClass::ClientError), Outcome::success()]);
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.class, done.attempts), (OutcomeClass::ClientError, 1));
    assert_eq!(script.hits("b"), 0);
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "a");
}

#[tokio::test(start_paused = true)]
async fn each_key_is_tried_once_and_the_last_response_is_returned() {
    let pool = pool(&["a", "b", "c"]);
    let script = Script::default();
    for k in ["a", "b", "c"] {
        script.on(k, [limited(10)]);
    }
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.value.as_str(), done.attempts), ("c:rate_limited", 3));
    assert_eq!(script.total(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_cools_exactly_for_the_hint() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script.on("a", [limited(30), Outcome::success()]);
    script.run(&pool).await.unwrap();
    assert_eq!(state_of(&pool, "a").cooldown_remaining_ms, 30_000);
    advance(Duration::from_millis(29_999)).await;
    assert_eq!(state_of(&pool, "a").state, KeyState::Cooling);
    advance(Duration::from_millis(1)).await;
    assert_eq!(state_of(&pool, "a").state, KeyState::Available);
}

#[tokio::test(start_paused = true)]
async fn without_a_hint_rate_limits_back_off_exponentially() {
    let pool = pool(&["a"]);
    let script = Script::default();
    script.on("a", [class(OutcomeClass::RateLimited)]);
    for expected in [1_000, 2_000, 4_000, 8_000] {
        assert_eq!(
            script.run(&pool).await.unwrap().class,
            OutcomeClass::RateLimited
        );
        assert_eq!(state_of(&pool, "a").cooldown_remaining_ms, expected);
        advance(Duration::from_millis(expected)).await;
    }
    script.on("a", [Outcome::success(), class(OutcomeClass::RateLimited)]);
    script.run(&pool).await.unwrap();
    script.run(&pool).await.unwrap();
    assert_eq!(
        state_of(&pool, "a").cooldown_remaining_ms,
        1_000,
        "a success resets the backoff"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cooldown_is_never_shortened() {
    let pool = pool(&["a"]);
    let script = Script::default();
    script.on("a", [limited(60)]);
    script.run(&pool).await.unwrap();
    // A request that was already in flight on `a` reports a shorter 429 later.
    pool.report(0, &limited(5)).await;
    assert_eq!(state_of(&pool, "a").cooldown_remaining_ms, 60_000);
}

#[tokio::test(start_paused = true)]
async fn no_credit_and_daily_quota_cool_for_long() {
    let pool = pool(&["broke", "daily", "good"]);
    let script = Script::default();
    script.on("broke", [class(OutcomeClass::KeyNoCredit)]).on(
        "daily",
        [class(OutcomeClass::QuotaDaily).with_retry_after(Some(Duration::from_secs(20 * 3600)))],
    );
    script.run(&pool).await.unwrap();
    assert_eq!(
        state_of(&pool, "broke").cooldown_remaining_ms,
        6 * 3600 * 1000
    );
    assert_eq!(
        state_of(&pool, "daily").cooldown_remaining_ms,
        20 * 3600 * 1000
    );
}

#[tokio::test(start_paused = true)]
async fn a_success_with_nothing_left_parks_the_key_before_it_earns_a_429() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script.on(
        "a",
        [
            Outcome::success().with_retry_after(Some(Duration::from_secs(12))),
            Outcome::success(),
        ],
    );
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "a");
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "b");
    assert_eq!(script.hits("a"), 1);
}

#[tokio::test(start_paused = true)]
async fn when_every_key_is_cooling_the_pool_refuses_with_the_earliest_recovery() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script.on("a", [limited(40)]).on("b", [limited(25)]);
    let first = script.run(&pool).await.unwrap();
    assert_eq!(first.attempts, 2);
    let refused = script.run(&pool).await.unwrap_err();
    assert_eq!(refused.log, [], "a refusal touches no key");
    assert_eq!(
        refused.refusal,
        Refusal::Cooling {
            retry_after: Duration::from_secs(25)
        }
    );
    assert_eq!(script.total(), 2, "a refusal touches no key");
}

#[tokio::test(start_paused = true)]
async fn max_wait_waits_for_a_key_that_recovers_soon_enough() {
    let pool = pool(&["a"]);
    let script = Script::default();
    script.on("a", [limited(3), Outcome::success()]);
    script.run(&pool).await.unwrap();
    let options = ExecuteOptions {
        max_wait: Duration::from_secs(5),
        ..ExecuteOptions::default()
    };
    let started = Instant::now();
    let done = script.run_with(&pool, &options).await.unwrap();
    assert_eq!(done.class, OutcomeClass::Success);
    assert_eq!(Instant::now() - started, Duration::from_secs(3));
    script.on("a", [limited(30)]);
    script.run(&pool).await.unwrap();
    assert!(matches!(
        script
            .run_with(&pool, &options)
            .await
            .map_err(|r| r.refusal),
        Err(Refusal::Cooling { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn when_every_key_is_disabled_the_refusal_names_them() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script
        .on("a", [class(OutcomeClass::KeyInvalid)])
        .on("b", [class(OutcomeClass::KeyInvalid)]);
    assert_eq!(
        script.run(&pool).await.unwrap().class,
        OutcomeClass::KeyInvalid
    );
    match script.run(&pool).await.unwrap_err().refusal {
        Refusal::AllDisabled {
            invalid,
            by_operator,
        } => {
            let names: Vec<_> = invalid.iter().map(|k| k.as_str().to_owned()).collect();
            assert_eq!(names, ["a", "b"]);
            assert!(by_operator.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        pool.reinstate(pool.keys().next().unwrap().fingerprint().id())
            .await
    );
    script.on("a", [Outcome::success()]);
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "a");
}

#[tokio::test(start_paused = true)]
async fn a_lone_key_gets_a_jittered_same_key_retry_on_transient_errors() {
    let pool = pool(&["a"]);
    let script = Script::default();
    script.on("a", [transient("503"), Outcome::success()]);
    let started = Instant::now();
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.class, done.attempts), (OutcomeClass::Success, 2));
    let waited = Instant::now() - started;
    assert!(
        waited >= Duration::from_millis(125) && waited <= Duration::from_millis(375),
        "{waited:?}"
    );
    // The budget is one retry: two transient failures end the request.
    script.on(
        "a",
        [transient("503"), transient("503"), Outcome::success()],
    );
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.class, done.attempts), (OutcomeClass::Transient, 2));
}

#[tokio::test(start_paused = true)]
async fn a_fresh_key_is_tried_before_the_same_key_retry() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    script.on("a", [transient("500")]);
    let started = Instant::now();
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.key.as_str(), done.attempts), ("b", 2));
    assert_eq!(Instant::now(), started);
}

#[tokio::test(start_paused = true)]
async fn a_streak_of_transient_failures_cools_the_key() {
    let pool = pool_with(&["flaky", "good"], Strategy::RoundRobin);
    let script = Script::default();
    script.on("flaky", [class(OutcomeClass::Transient)]);
    for _ in 0..6 {
        script.run(&pool).await.unwrap();
        if state_of(&pool, "flaky").state == KeyState::Cooling {
            break;
        }
        advance(Duration::from_secs(10)).await;
    }
    assert_eq!(script.hits("flaky"), 3);
    assert_eq!(state_of(&pool, "flaky").state, KeyState::Cooling);
}

#[tokio::test(start_paused = true)]
async fn the_same_transient_signal_on_two_keys_means_the_provider_is_down() {
    let pool = pool(&["a", "b", "c"]);
    let script = Script::default();
    script
        .on("a", [transient("529")])
        .on("b", [transient("529")]);
    let done = script.run(&pool).await.unwrap();
    assert_eq!(
        (done.class, done.attempts, done.value.as_str()),
        (OutcomeClass::ProviderDown, 2, "b:transient")
    );
    assert_eq!(script.hits("c"), 0);
    assert_eq!(state_of(&pool, "b").state, KeyState::Available);
    // Different signals are independent key problems: rotation goes on.
    advance(Duration::from_secs(6)).await;
    script
        .on("a", [transient("500")])
        .on("b", [transient("502")]);
    let done = script.run(&pool).await.unwrap();
    assert_eq!(done.key.as_str(), "c");
}

#[tokio::test(start_paused = true)]
async fn a_shared_quota_signature_stops_rotation() {
    let pool = pool(&["p1", "p2", "p3"]);
    let script = Script::default();
    let quota =
        || limited(20).with_signature("GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
    script.on("p1", [quota()]).on("p2", [quota()]);
    let done = script.run(&pool).await.unwrap();
    assert_eq!((done.class, done.attempts), (OutcomeClass::ProviderDown, 2));
    assert_eq!(script.hits("p3"), 0);
}

#[tokio::test(start_paused = true)]
async fn no_attempt_starts_after_the_deadline() {
    let pool = pool(&["a", "b", "c"]);
    let options = ExecuteOptions {
        deadline: Some(Instant::now() + Duration::from_secs(5)),
        ..ExecuteOptions::default()
    };
    let done = pool
        .execute(&options, |attempt| async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            AttemptReply {
                open: false,
                outcome: class(OutcomeClass::Transient),
                value: attempt.key.expose().to_owned(),
                status: None,
            }
        })
        .await
        .unwrap();
    assert_eq!((done.attempts, done.value.as_str()), (2, "b"));
    let late = ExecuteOptions {
        deadline: Some(Instant::now()),
        ..ExecuteOptions::default()
    };
    let refused = Script::default().run_with(&pool, &late).await.unwrap_err();
    assert_eq!(refused.refusal, Refusal::DeadlineExceeded { attempts: 0 });
}

#[tokio::test(start_paused = true)]
async fn round_robin_spreads_requests_evenly() {
    let pool = pool_with(&["a", "b", "c"], Strategy::RoundRobin);
    let script = Script::default();
    for _ in 0..9 {
        script.run(&pool).await.unwrap();
    }
    assert_eq!(
        (script.hits("a"), script.hits("b"), script.hits("c")),
        (3, 3, 3)
    );
}

#[tokio::test(start_paused = true)]
async fn weighted_follows_the_weights() {
    let mut entries = keys(&["heavy", "light"]);
    entries[0].weight = 3;
    let config = PoolConfig {
        strategy: Strategy::Weighted,
        ..PoolConfig::default()
    };
    let pool = KeyPool::new("w", entries, config);
    let script = Script::default();
    for _ in 0..8 {
        script.run(&pool).await.unwrap();
    }
    assert_eq!((script.hits("heavy"), script.hits("light")), (6, 2));
}

#[tokio::test(start_paused = true)]
async fn least_used_prefers_the_key_with_fewest_in_flight() {
    let pool = Arc::new(pool_with(&["a", "b"], Strategy::LeastUsed));
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let wait = Arc::new(tokio::sync::Mutex::new(Some(wait)));
    let slow = {
        let pool = pool.clone();
        tokio::spawn(async move {
            pool.execute(&ExecuteOptions::default(), |attempt| {
                let wait = wait.clone();
                async move {
                    if let Some(wait) = wait.lock().await.take() {
                        let _ = wait.await;
                    }
                    AttemptReply {
                        open: false,
                        outcome: Outcome::success(),
                        value: attempt.key.expose().to_owned(),
                        status: Some(200),
                    }
                }
            })
            .await
        })
    };
    tokio::task::yield_now().await;
    let script = Script::default();
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "b");
    release.send(()).unwrap();
    assert_eq!(slow.await.unwrap().unwrap().key.as_str(), "a");
    // Equal in flight: fewest requests made wins.
    assert_eq!(script.run(&pool).await.unwrap().key.as_str(), "a");
}

#[tokio::test(start_paused = true)]
async fn rotates_once_when_many_requests_fail_together() {
    let pool = Arc::new(pool(&["a", "b", "c"]));
    let script = Script::default();
    script.on("a", [class(OutcomeClass::Transient)]);
    let gate = Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (pool, script, gate) = (pool.clone(), script.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            pool.execute(&ExecuteOptions::default(), |attempt| {
                let reply = script.answer(&attempt);
                let gate = gate.clone();
                async move {
                    // Every request is in flight on `a` before any reports.
                    if attempt.number == 1 {
                        gate.wait().await;
                    }
                    reply
                }
            })
            .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().key.as_str(), "b");
    }
    assert_eq!(
        (script.hits("a"), script.hits("b"), script.hits("c")),
        (100, 100, 0)
    );
    assert_eq!(pool.current().unwrap().as_str(), "b");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_attempt_gives_its_key_back() {
    let pool = pool_with(&["a", "b"], Strategy::LeastUsed);
    let options = ExecuteOptions::default();
    let pending = pool.execute(&options, |_| std::future::pending::<AttemptReply<()>>());
    assert!(tokio::time::timeout(Duration::from_secs(1), pending)
        .await
        .is_err());
    assert!(pool.snapshot().iter().all(|s| s.inflight == 0));
}

#[tokio::test(start_paused = true)]
async fn two_pools_on_one_store_share_what_they_learn() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let first = pool_on(&["bad", "good"], Strategy::Sticky, store.clone());
    let second = pool_on(&["bad", "good"], Strategy::Sticky, store.clone());
    let script = Script::default();
    script.on("bad", [class(OutcomeClass::KeyInvalid)]);
    script.run(&first).await.unwrap();
    let done = script.run(&second).await.unwrap();
    assert_eq!((done.key.as_str(), done.attempts), ("good", 1));
    assert_eq!(script.hits("bad"), 1);
    let records = store.load("test").await.unwrap();
    let bad = records.iter().find(|r| r.health.is_disabled()).unwrap();
    assert_eq!(bad.outcomes.get(OutcomeClass::KeyInvalid), 1);
    let serialized = format!("{records:?}");
    assert!(!serialized.contains("\"bad\""));
}

#[tokio::test(start_paused = true)]
async fn an_empty_pool_refuses() {
    let pool = pool(&[]);
    assert_eq!(
        Script::default().run(&pool).await.unwrap_err().refusal,
        Refusal::NoKeys
    );
}

#[test]
fn clock_follows_wall_time_at_start() {
    let wall = SystemTime::now();
    let clock = Clock::starting_at(wall);
    let ms = wall.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(clock.now_ms() >= ms && clock.now_ms() < ms + 1000);
}

//! Cooldown scopes and quota groups, through the pool's public interface,
//! under tokio's paused clock.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use keypool::*;
use tokio::time::advance;

fn entry(name: &str, group: Option<&str>) -> KeyEntry {
    KeyEntry {
        key: ApiKey::new(name, Some(name)),
        weight: 1,
        group: group.map(str::to_owned),
        budget: Budget::default(),
    }
}

fn pool_of(entries: Vec<KeyEntry>, store: Arc<dyn StateStore>) -> KeyPool {
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_768_478_400));
    KeyPool::with_store("test", entries, PoolConfig::default(), clock, store)
}

/// Runs one request for `model`; `reply(key)` decides each attempt's outcome.
/// Returns the keys tried, in order, and the result.
async fn run(
    pool: &KeyPool,
    model: &str,
    reply: impl Fn(&str) -> Outcome,
) -> (Vec<String>, Result<Finished<()>, Refused>) {
    let tried = Arc::new(Mutex::new(Vec::new()));
    let options = ExecuteOptions {
        model: Some(model.to_owned()),
        ..ExecuteOptions::default()
    };
    let result = pool
        .execute(&options, |attempt| {
            let key = attempt.key.expose().to_owned();
            tried.lock().unwrap().push(key.clone());
            let outcome = reply(&key);
            async move {
                AttemptReply {
                    open: false,
                    outcome,
                    value: (),
                    status: None,
                }
            }
        })
        .await;
    let tried = tried.lock().unwrap().clone();
    (tried, result)
}

fn ok(_: &str) -> Outcome {
    Outcome::success()
}

fn daily_quota(model: &str) -> Outcome {
    Outcome::new(OutcomeClass::QuotaDaily)
        .with_retry_after(Some(Duration::from_secs(8 * 3600)))
        .for_model(model)
}

fn state_of(pool: &KeyPool, name: &str) -> KeySnapshot {
    pool.snapshot()
        .into_iter()
        .find(|s| s.key.as_str() == name)
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_per_model_quota_cools_the_key_for_that_model_only() {
    let pool = pool_of(
        vec![entry("a", None), entry("b", None)],
        Arc::new(MemoryStore::new()),
    );
    let (tried, result) = run(&pool, "pro", |k| {
        if k == "a" {
            daily_quota("pro")
        } else {
            Outcome::success()
        }
    })
    .await;
    assert_eq!(tried, ["a", "b"]);
    assert_eq!(result.unwrap().key.as_str(), "b");

    // Another model: the sticky key `a` serves it on the first attempt.
    let (tried, _) = run(&pool, "flash", ok).await;
    assert_eq!(tried, ["a"]);
    // The quota's model: `a` is passed over without an attempt.
    let (tried, _) = run(&pool, "pro", ok).await;
    assert_eq!(tried, ["b"]);

    let a = state_of(&pool, "a");
    assert_eq!(a.state, KeyState::Available, "key-wide state untouched");
    assert_eq!(a.model_cooldowns.len(), 1);
    assert_eq!(a.model_cooldowns[0].model, "pro");
    assert_eq!(a.model_cooldowns[0].class, OutcomeClass::QuotaDaily);
    assert_eq!(a.model_cooldowns[0].remaining_ms, 8 * 3600 * 1000);

    // When the quota resets, `a` serves the model again.
    advance(Duration::from_secs(8 * 3600)).await;
    let (tried, _) = run(&pool, "pro", ok).await;
    assert_eq!(tried, ["a"]);
    assert!(state_of(&pool, "a").model_cooldowns.is_empty());
}

#[tokio::test(start_paused = true)]
async fn every_key_cooling_for_a_model_is_a_refusal_with_the_first_recovery() {
    let pool = pool_of(
        vec![entry("a", None), entry("b", None)],
        Arc::new(MemoryStore::new()),
    );
    let (_, result) = run(&pool, "pro", |k| {
        Outcome::new(OutcomeClass::RateLimited)
            .with_retry_after(Some(Duration::from_secs(if k == "a" { 40 } else { 20 })))
            .for_model("pro")
    })
    .await;
    assert_eq!(result.unwrap().class, OutcomeClass::RateLimited);
    let (tried, result) = run(&pool, "pro", ok).await;
    assert!(tried.is_empty());
    assert_eq!(
        result.unwrap_err().refusal,
        Refusal::Cooling {
            retry_after: Duration::from_secs(20)
        }
    );
    let (tried, result) = run(&pool, "flash", ok).await;
    assert_eq!(tried, ["a"], "the cursor stays on `a`, which serves flash");
    assert!(result.is_ok());
}

#[tokio::test(start_paused = true)]
async fn key_problems_stay_key_wide_even_when_a_model_is_named() {
    let pool = pool_of(
        vec![entry("a", None), entry("b", None)],
        Arc::new(MemoryStore::new()),
    );
    let _ = run(&pool, "pro", |k| {
        if k == "a" {
            Outcome::new(OutcomeClass::KeyNoCredit).for_model("pro")
        } else {
            Outcome::success()
        }
    })
    .await;
    let (tried, _) = run(&pool, "flash", ok).await;
    assert_eq!(tried, ["b"]);
    assert_eq!(state_of(&pool, "a").state, KeyState::Cooling);
}

#[tokio::test(start_paused = true)]
async fn a_quota_on_one_key_of_a_configured_group_cools_the_whole_group() {
    let pool = pool_of(
        vec![
            entry("p1", Some("project-1")),
            entry("p2", Some("project-1")),
            entry("q1", Some("project-2")),
        ],
        Arc::new(MemoryStore::new()),
    );
    let (tried, result) = run(&pool, "pro", |k| {
        if k.starts_with('p') {
            daily_quota("pro")
        } else {
            Outcome::success()
        }
    })
    .await;
    assert_eq!(tried, ["p1", "q1"], "p2 shares p1's quota: never tried");
    assert_eq!(result.unwrap().key.as_str(), "q1");
    let p2 = state_of(&pool, "p2");
    assert_eq!(p2.group.as_deref(), Some("project-1"));
    assert_eq!(p2.model_cooldowns[0].model, "pro");
    assert_eq!(p2.requests, 0, "cooled without an attempt");
    // The group still serves other models, from the sticky key on.
    let (tried, _) = run(&pool, "flash", ok).await;
    assert_eq!(tried, ["p1"]);
    let (tried, _) = run(&pool, "pro", ok).await;
    assert_eq!(tried, ["q1"]);
}

#[tokio::test(start_paused = true)]
async fn a_group_named_by_the_provider_is_learned_and_then_cooled_together() {
    let pool = pool_of(
        vec![entry("a", None), entry("b", None), entry("c", None)],
        Arc::new(MemoryStore::new()),
    );
    // Failures that name the organisation, on every key (as OpenAI's
    // headers and messages do); no limit shared yet.
    let (tried, _) = run(&pool, "m", |k| {
        let org = if k == "c" { "org-other" } else { "org-shared" };
        Outcome::new(OutcomeClass::Transient).with_group(org)
    })
    .await;
    assert!(tried.len() >= 3);
    advance(Duration::from_secs(600)).await;
    let (tried, result) = run(&pool, "m", |k| {
        if k == "c" {
            Outcome::success()
        } else {
            Outcome::new(OutcomeClass::RateLimited)
                .with_retry_after(Some(Duration::from_secs(30)))
                .with_group("org-shared")
        }
    })
    .await;
    assert_eq!(result.unwrap().key.as_str(), "c");
    assert_eq!(tried, ["a", "c"], "b shares a's limit: never tried");
    for name in ["a", "b"] {
        let s = state_of(&pool, name);
        assert_eq!(s.state, KeyState::Cooling, "{name}");
        assert_eq!(s.group.as_deref(), Some("org-shared"));
    }
}

#[tokio::test(start_paused = true)]
async fn scoped_cooldowns_reach_another_pool_through_the_store() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let first = pool_of(
        vec![
            entry("a", Some("g")),
            entry("b", Some("g")),
            entry("c", None),
        ],
        store.clone(),
    );
    let second = pool_of(
        vec![entry("a", None), entry("b", None), entry("c", None)],
        store.clone(),
    );
    let _ = run(&first, "pro", |k| {
        if k == "c" {
            Outcome::success()
        } else {
            daily_quota("pro")
        }
    })
    .await;
    second.refresh().await;
    let (tried, _) = run(&second, "pro", ok).await;
    assert_eq!(tried, ["c"], "a and b cool for pro in the shared state");
    let (tried, _) = run(&second, "flash", ok).await;
    assert_eq!(tried, ["a"]);
}

#[test]
fn merging_health_keeps_the_later_deadline_per_model() {
    let mut mine = KeyHealth::default();
    mine.cool_model_until("pro", 100, OutcomeClass::RateLimited);
    mine.cool_model_until("flash", 500, OutcomeClass::QuotaDaily);
    let mut theirs = KeyHealth::default();
    theirs.cool_model_until("pro", 300, OutcomeClass::QuotaDaily);
    theirs.cool_model_until("flash", 200, OutcomeClass::RateLimited);
    theirs.cool_model_until("lite", 50, OutcomeClass::RateLimited);
    mine.merge(&theirs);
    let got: Vec<_> = mine
        .scoped
        .iter()
        .map(|c| (c.model.as_str(), c.until_ms, c.class))
        .collect();
    assert_eq!(
        got,
        [
            ("flash", 500, OutcomeClass::QuotaDaily),
            ("lite", 50, OutcomeClass::RateLimited),
            ("pro", 300, OutcomeClass::QuotaDaily),
        ]
    );
    assert!(mine.is_available_for(400, Some("pro")));
    assert!(!mine.is_available_for(299, Some("pro")));
    assert!(mine.is_available_for(0, Some("other")));
    assert!(mine.is_available_for(0, None));
}

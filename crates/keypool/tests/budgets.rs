//! Client-side budgets through the pool, under tokio's paused clock.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use keypool::*;
use tokio::time::advance;

fn entry(name: &str, budget: Budget) -> KeyEntry {
    KeyEntry {
        key: ApiKey::new(name, Some(name)),
        weight: 1,
        group: None,
        budget,
    }
}

fn rpm(n: u64) -> Budget {
    Budget {
        rpm: Some(n),
        ..Budget::default()
    }
}

fn pool(entries: Vec<KeyEntry>, store: Arc<dyn StateStore>) -> KeyPool {
    // 5 s into a 10-second bucket.
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_millis(1_768_478_405_000));
    KeyPool::with_store("test", entries, PoolConfig::default(), clock, store)
}

async fn send(pool: &KeyPool, tokens: u64) -> (Vec<String>, Result<Finished<()>, Refused>) {
    let tried = Arc::new(Mutex::new(Vec::new()));
    let options = ExecuteOptions {
        tokens,
        ..ExecuteOptions::default()
    };
    let result = pool
        .execute(&options, |attempt| {
            tried.lock().unwrap().push(attempt.key.expose().to_owned());
            async {
                AttemptReply {
                    open: false,
                    outcome: Outcome::success(),
                    value: (),
                    status: Some(200),
                }
            }
        })
        .await;
    let tried = tried.lock().unwrap().clone();
    (tried, result)
}

#[tokio::test(start_paused = true)]
async fn with_rpm_2_the_third_request_in_a_minute_goes_to_the_next_key() {
    let pool = pool(
        vec![entry("a", rpm(2)), entry("b", rpm(2))],
        Arc::new(MemoryStore::new()),
    );
    for _ in 0..2 {
        assert_eq!(send(&pool, 0).await.0, ["a"]);
    }
    assert_eq!(
        send(&pool, 0).await.0,
        ["b"],
        "a is spent; no attempt on it"
    );
    assert_eq!(send(&pool, 0).await.0, ["b"]);

    // Both spent: a local refusal, timed to the first key with room.
    let (tried, result) = send(&pool, 0).await;
    assert!(tried.is_empty());
    let Err(Refused {
        refusal: Refusal::OverBudget { retry_after },
        ..
    }) = result
    else {
        panic!("{result:?}")
    };
    // a's requests sit in a bucket that ends in 5 s; it then counts a minute more.
    assert_eq!(retry_after, Duration::from_secs(65));
    advance(retry_after).await;
    assert_eq!(send(&pool, 0).await.0, ["a"]);
}

#[tokio::test(start_paused = true)]
async fn a_provider_wide_budget_and_a_key_budget_combine() {
    let provider = Budget {
        rpm: Some(1),
        rpd: Some(3),
        ..Budget::default()
    };
    let pool = pool(
        vec![
            entry(
                "a",
                Budget {
                    rpm: Some(5),
                    ..Budget::default()
                }
                .or(provider),
            ),
            entry("b", Budget::default().or(provider)),
        ],
        Arc::new(MemoryStore::new()),
    );
    let mut served = Vec::new();
    for _ in 0..6 {
        served.extend(send(&pool, 0).await.0);
    }
    assert_eq!(
        served,
        ["a", "a", "a", "b"],
        "a's day ends at 3, b's minute at 1"
    );
    advance(Duration::from_secs(70)).await;
    assert_eq!(send(&pool, 0).await.0, ["b"]);
}

#[tokio::test(start_paused = true)]
async fn tokens_are_estimated_then_corrected_by_the_reported_usage() {
    let budget = Budget {
        tpm: Some(1_000),
        ..Budget::default()
    };
    let pool = pool(
        vec![entry("a", budget), entry("b", budget)],
        Arc::new(MemoryStore::new()),
    );
    let (tried, result) = send(&pool, 600).await;
    assert_eq!(tried, ["a"]);
    // Estimated 600: another 600 would not fit on a.
    assert_eq!(send(&pool, 600).await.0, ["b"]);
    // The first answer reported 100 tokens: a has room again.
    pool.report_tokens(&result.unwrap().key, 600, 100).await;
    assert_eq!(send(&pool, 600).await.0, ["a"]);
}

#[tokio::test(start_paused = true)]
async fn budgets_are_shared_through_the_store() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let one = pool(vec![entry("a", rpm(2)), entry("b", rpm(2))], store.clone());
    let two = pool(vec![entry("a", rpm(2)), entry("b", rpm(2))], store.clone());
    send(&one, 0).await.1.unwrap();
    send(&one, 0).await.1.unwrap();
    two.refresh().await;
    assert_eq!(
        send(&two, 0).await.0,
        ["b"],
        "the other process spent a's minute"
    );
}

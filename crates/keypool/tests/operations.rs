//! What an operator does to a running pool: disable and enable keys, and
//! carry key state across a reload.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use keypool::*;

fn pool(names: &[&str], store: Arc<dyn StateStore>) -> KeyPool {
    let entries = names
        .iter()
        .map(|n| KeyEntry::from(ApiKey::new(&format!("test-key-{n}-0000000000"), None)))
        .collect();
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_768_478_400));
    KeyPool::with_store("test", entries, PoolConfig::default(), clock, store)
}

async fn serve(pool: &KeyPool, reply: impl Fn(&str) -> Outcome) -> Result<Finished<()>, Refused> {
    pool.execute(&ExecuteOptions::default(), |attempt| {
        let outcome = reply(attempt.key.expose());
        async move {
            AttemptReply {
                open: false,
                outcome,
                value: (),
                status: None,
            }
        }
    })
    .await
}

fn id_of(pool: &KeyPool, i: usize) -> String {
    pool.snapshot()[i].id.clone()
}

#[tokio::test(start_paused = true)]
async fn a_disabled_key_is_not_used_nor_rechecked_until_enabled() {
    let pool = pool(&["a", "b"], Arc::new(MemoryStore::new()));
    let a = id_of(&pool, 0);
    assert!(pool.disable(&a).await);
    assert!(!pool.disable("000000000000").await, "unknown id");
    for _ in 0..3 {
        let done = serve(&pool, |_| Outcome::success()).await.unwrap();
        assert_ne!(done.key.id(), a);
    }
    let shown = &pool.snapshot()[0];
    assert_eq!(shown.state, KeyState::Disabled);
    assert_eq!(shown.disabled_reason.as_deref(), Some(DISABLED_BY_ADMIN));
    assert!(
        pool.disabled_keys().is_empty(),
        "the re-check leaves it alone"
    );

    assert!(pool.reinstate(&a).await);
    assert_eq!(pool.snapshot()[0].state, KeyState::Available);
}

#[tokio::test(start_paused = true)]
async fn the_all_disabled_refusal_says_who_disabled_each_key() {
    let pool = pool(&["a", "b", "c"], Arc::new(MemoryStore::new()));
    for i in [1, 2] {
        assert!(pool.disable(&id_of(&pool, i)).await);
    }
    let invalid = |_: &str| Outcome::new(OutcomeClass::KeyInvalid);
    serve(&pool, invalid).await.unwrap();
    match serve(&pool, invalid).await.unwrap_err().refusal {
        Refusal::AllDisabled {
            invalid,
            by_operator,
        } => {
            let shown = pool.snapshot();
            assert_eq!(invalid, [shown[0].key.clone()], "the provider's");
            assert_eq!(by_operator, [shown[1].key.clone(), shown[2].key.clone()]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_reloaded_pool_keeps_the_state_of_keys_that_stayed() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let old = pool(&["a", "b", "c"], store.clone());
    // a cools, b serves and becomes the sticky key.
    let limited = |k: &str| {
        if k.contains("-a-") {
            Outcome::new(OutcomeClass::RateLimited).with_retry_after(Some(Duration::from_secs(600)))
        } else {
            Outcome::success()
        }
    };
    serve(&old, limited).await.unwrap();
    serve(&old, limited).await.unwrap();

    // c removed, d added.
    let new = pool(&["b", "a", "d"], store);
    new.inherit(&old);
    let shown = new.snapshot();
    // Order of the new configuration: b, a, d.
    assert_eq!(shown[0].requests, 2, "b kept its counters");
    assert_eq!(shown[1].state, KeyState::Cooling, "a kept its cooldown");
    assert_eq!(shown[1].requests, 1);
    assert_eq!(
        (shown[2].requests, shown[2].state),
        (0, KeyState::Available)
    );
    let done = serve(&new, |_| Outcome::success()).await.unwrap();
    assert_eq!(done.key, shown[0].key, "the sticky key stays b");
    assert_eq!(done.attempts, 1);
}

#[tokio::test(start_paused = true)]
async fn each_key_shows_its_last_hour_of_attempts_and_failures_per_minute() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
    let old = pool(&["a", "b"], store.clone());
    let start_ms = old.clock().now_ms();
    let limited = |k: &str| {
        if k.contains("-a-") {
            Outcome::new(OutcomeClass::RateLimited).with_retry_after(Some(Duration::from_secs(600)))
        } else {
            Outcome::success()
        }
    };
    serve(&old, limited).await.unwrap();
    tokio::time::advance(Duration::from_secs(120)).await;
    serve(&old, limited).await.unwrap();

    // A reload keeps it, like the counters.
    let new = pool(&["b", "a"], store);
    new.inherit(&old);
    let minutes = |i: usize| {
        new.snapshot()[i]
            .history
            .iter()
            .map(|m| (m.minute_start_ms - start_ms, m.requests, m.failures))
            .collect::<Vec<_>>()
    };
    assert_eq!(minutes(0), [(0, 1, 0), (120_000, 1, 0)], "b");
    assert_eq!(minutes(1), [(0, 1, 1)], "a failed once");

    // (the new pool's clock, made two minutes later, reads two minutes less)
    tokio::time::advance(Duration::from_secs(61 * 60)).await;
    assert_eq!(
        minutes(0),
        [(120_000, 1, 0)],
        "the first minute left the hour"
    );
    assert!(minutes(1).is_empty());
}

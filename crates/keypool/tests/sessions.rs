//! Session affinity: rendezvous hashing over the keys that can serve.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use keypool::*;

fn pool(names: &[&str]) -> KeyPool {
    let entries = names
        .iter()
        .map(|n| KeyEntry::from(ApiKey::new(n, Some(n))))
        .collect();
    let clock = Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_768_478_400));
    KeyPool::with_store(
        "test",
        entries,
        PoolConfig::default(),
        clock,
        Arc::new(MemoryStore::new()),
    )
}

/// One request in `session`; `reply(key)` decides each attempt. Returns the
/// key that served (or last failed) and the keys tried.
async fn request(
    pool: &KeyPool,
    session: &str,
    reply: impl Fn(&str) -> Outcome,
) -> (String, Vec<String>) {
    let tried = Arc::new(Mutex::new(Vec::new()));
    let options = ExecuteOptions {
        session: Some(session_hash(session)),
        ..ExecuteOptions::default()
    };
    let finished = pool
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
        .await
        .unwrap();
    let tried = tried.lock().unwrap().clone();
    (finished.key.as_str().to_owned(), tried)
}

fn sessions() -> Vec<String> {
    (0..20)
        .map(|i| format!("0b6c1f2e-93a4-4d5e-8f70-{i:012}"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn twenty_sessions_over_four_keys_each_keep_one_key_and_spread() {
    let pool = pool(&["k1", "k2", "k3", "k4"]);
    let mut home: HashMap<String, String> = HashMap::new();
    for round in 0..3 {
        for session in sessions() {
            let (key, tried) = request(&pool, &session, |_| Outcome::success()).await;
            assert_eq!(tried.len(), 1);
            let first = home.entry(session.clone()).or_insert_with(|| key.clone());
            assert_eq!(*first, key, "{session} moved in round {round}");
        }
    }
    let used: HashSet<&String> = home.values().collect();
    assert!(used.len() >= 3, "sessions spread over {used:?}");
}

#[tokio::test(start_paused = true)]
async fn a_cooling_key_moves_only_its_own_sessions_and_they_come_back() {
    let pool = pool(&["k1", "k2", "k3", "k4"]);
    let mut home = HashMap::new();
    for session in sessions() {
        let (key, _) = request(&pool, &session, |_| Outcome::success()).await;
        home.insert(session, key);
    }
    let (victim, victim_session) = home
        .iter()
        .map(|(s, k)| (k.clone(), s.clone()))
        .next()
        .unwrap();
    // The victim's key is rate limited for a minute.
    let (served, tried) = request(&pool, &victim_session, |k| {
        if k == victim {
            Outcome::new(OutcomeClass::RateLimited).with_retry_after(Some(Duration::from_secs(60)))
        } else {
            Outcome::success()
        }
    })
    .await;
    assert_eq!(tried[0], victim);
    assert_ne!(served, victim);
    for session in sessions() {
        let (key, tried) = request(&pool, &session, |_| Outcome::success()).await;
        assert_eq!(tried.len(), 1, "a cooling key is passed over, not tried");
        if home[&session] == victim {
            assert_ne!(key, victim);
        } else {
            assert_eq!(key, home[&session], "{session} did not lose its key");
        }
    }
    tokio::time::advance(Duration::from_secs(61)).await;
    for session in sessions() {
        let (key, _) = request(&pool, &session, |_| Outcome::success()).await;
        assert_eq!(key, home[&session], "{session} back on its key");
    }
}

#[test]
fn session_hashes_are_the_same_in_every_process() {
    // Replicas must agree: FNV-1a plus SplitMix64's finaliser, never seeded.
    assert_eq!(session_hash("keyrelay"), 0x722c_dbe6_41b8_426f);
    assert_ne!(session_hash("s1"), session_hash("s2"));
}

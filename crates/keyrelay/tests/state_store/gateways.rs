//! Two `keyrelay serve` processes sharing one store: a key one of them found
//! invalid or cooling is skipped by the other, and by a restarted process.

use std::time::Duration;

use keyrelay::store::redis::RedisStore;
use keyrelay::store::sqlite::SqliteStore;
use keyrelay::store::Backend;
use testkit::{eventually_async, FakeUpstream, RedisServer, Reply};

use super::*;

fn scripted_upstream(upstream: &FakeUpstream) {
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "600"),
        ],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
}

/// Gateway A meets the invalid and the rate-limited key; B (fresh) and A
/// restarted never reach them. `store` reads the shared store directly.
async fn a_second_gateway_skips_keys_the_first_found_bad(state: &str, store: &dyn Backend) {
    let upstream = FakeUpstream::start().await;
    scripted_upstream(&upstream);
    let env = anthropic_env(&upstream, &[INVALID, LIMITED, GOOD]);
    let args = ["--state", state];
    let a = serve(&env, &args).await;
    let b = serve(&env, &args).await;
    let client = client();

    let asked_ms = wall_ms();
    assert_eq!(ask(&client, &a.url).await, (200, 3));
    let answered_ms = wall_ms();
    // Write-behind: the records land a few ms after A's answer.
    eventually_async(
        "A's findings in the store",
        Duration::from_secs(5),
        || async {
            let invalid = stored(store, "anthropic", INVALID).await;
            let limited = stored(store, "anthropic", LIMITED).await;
            invalid.is_some_and(|r| r.health.is_disabled())
                && limited.is_some_and(|r| r.health.cooling_until_ms > 0)
        },
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            ask(&client, &b.url).await,
            (200, 1),
            "B goes straight to the good key"
        );
    }

    a.stop().await;
    b.stop().await;
    let restarted = serve(&env, &args).await;
    for _ in 0..3 {
        assert_eq!(
            ask(&client, &restarted.url).await,
            (200, 1),
            "still skipped after a restart"
        );
    }
    assert_eq!(
        (
            upstream.hits(INVALID),
            upstream.hits(LIMITED),
            upstream.hits(GOOD)
        ),
        (1, 1, 7)
    );
    let limited = stored(store, "anthropic", LIMITED).await.unwrap();
    // A met the 429 while answering, and cools the key for the provider's 600 s.
    let cooled_from = asked_ms - CLOCK_SLACK_MS..=answered_ms + CLOCK_SLACK_MS;
    let until = limited.health.cooling_until_ms;
    assert!(
        cooled_from.contains(&until.saturating_sub(600_000)),
        "cooling until {until}: 600 s from a moment in {cooled_from:?}"
    );
    restarted.stop().await;
}

/// A gateway reads the wall clock once and then follows its monotonic clock
/// in whole milliseconds, so its reading may differ from ours by a few.
const CLOCK_SLACK_MS: u64 = 5;

/// Unix milliseconds now.
fn wall_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since_epoch.as_millis()).unwrap()
}

/// Asserts no test key, nor a long part of one, is in `dump`.
fn assert_no_key_material(dump: &[u8]) {
    let dump = String::from_utf8_lossy(dump);
    for key in [INVALID, LIMITED, GOOD] {
        assert!(!dump.contains(key), "key material in the store");
        assert!(!dump.contains(&key[8..]), "part of a key in the store");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_sqlite_file_share_invalid_and_cooling_keys() {
    let dir = TempDir::new("two-gateways");
    let path = dir.join("state.db");
    let store = SqliteStore::new(&path, Duration::from_secs(1)).unwrap();
    let state = format!("sqlite:{}", path.display());
    a_second_gateway_skips_keys_the_first_found_bad(&state, &store).await;

    let mut dump = Vec::new();
    for file in std::fs::read_dir(&dir.0).unwrap() {
        dump.extend(std::fs::read(file.unwrap().path()).unwrap());
    }
    assert!(!dump.is_empty());
    assert_no_key_material(&dump);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_redis_share_invalid_and_cooling_keys() {
    let server = RedisServer::start().await;
    let store = RedisStore::new(&server.url()).unwrap();
    a_second_gateway_skips_keys_the_first_found_bad(&server.url(), &store).await;
    assert_no_key_material(redis_dump(&server.url()).await.as_bytes());
}

/// Every key name and value in the Redis server, as text.
pub async fn redis_dump(url: &str) -> String {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!keys.is_empty());
    let mut dump = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> = match kind.as_str() {
            "hash" => redis::cmd("HGETALL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            "string" => vec![redis::cmd("GET")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap()],
            other => panic!("unexpected {other} at {key}"),
        };
        dump.push_str(&key);
        for value in values {
            dump.push(' ');
            dump.push_str(&value);
        }
        dump.push('\n');
    }
    dump
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_key_state_in_sqlite_under_xdg_state_home_by_default() {
    let dir = TempDir::new("default-path");
    let upstream = FakeUpstream::start().await;
    scripted_upstream(&upstream);
    let mut env = anthropic_env(&upstream, &[INVALID, GOOD]);
    env.push(("XDG_STATE_HOME", dir.0.display().to_string()));
    let gateway = serve(&env, &[]).await;
    assert_eq!(ask(&client(), &gateway.url).await, (200, 2));
    let path = dir.join("keyrelay/state.db");
    let store = SqliteStore::new(&path, Duration::from_secs(1)).unwrap();
    eventually_async(
        "the record in the default file",
        Duration::from_secs(5),
        || async {
            stored(&store, "anthropic", INVALID)
                .await
                .is_some_and(|r| r.health.is_disabled())
        },
    )
    .await;
    gateway.stop().await;
}

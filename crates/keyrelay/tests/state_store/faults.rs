//! A broken SQLite file costs sharing, never a request: keyrelay warns, goes
//! on from memory, and catches the file up once it can.

use std::time::Duration;

use futures_util::FutureExt;
use keypool::{KeyHealth, KeyUpdate, OutcomeClass};
use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use keyrelay::store::sqlite::SqliteStore;
use keyrelay::store::{self, Backend, StateSettings, StateSpec};
use testkit::{eventually_async, FakeUpstream, Reply};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_sqlite_file_leaves_the_gateway_serving_from_memory() {
    let dir = TempDir::new("corrupt");
    let path = dir.join("state.db");
    let garbage = b"this is not a SQLite database, it is a test's garbage".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
    let config =
        Config::from_toml(&format!("[state]\nstore = \"sqlite:{}\"\n", path.display())).unwrap();
    let env = MapEnv::new(anthropic_env(&upstream, &[INVALID, GOOD]));
    let settings = ServeSettings {
        config,
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();

    let client = client();
    assert_eq!(ask(&client, &gateway.url()).await, (200, 2));
    for _ in 0..5 {
        assert_eq!(ask(&client, &gateway.url()).await, (200, 1));
    }
    assert_eq!(
        upstream.hits(INVALID),
        1,
        "the disabled key is remembered in memory"
    );
    gateway.stop().await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        garbage,
        "the file is left as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_sqlite_file_falls_back_to_memory_and_catches_up_when_released() {
    let dir = TempDir::new("locked");
    let path = dir.join("state.db");
    let settings = StateSettings {
        store: Some(StateSpec::Sqlite(Some(path.clone()))),
        timeout_ms: 250,
    };
    // Another process holds the file exclusively (as a stuck tool would)
    // before keyrelay starts: nobody else may even read it.
    let locker = rusqlite::Connection::open(&path).unwrap();
    locker
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; CREATE TABLE other (x);")
        .unwrap();
    let resilient = store::open(&settings, &MapEnv::default()).unwrap();
    let reader = SqliteStore::new(&path, Duration::from_millis(100)).unwrap();

    let disabled = KeyHealth {
        disabled_at_ms: 1_000,
        disabled_reason: Some("invalid_api_key".into()),
        ..KeyHealth::default()
    };
    let id = id_of(INVALID);
    let update = KeyUpdate {
        id: &id,
        health: &disabled,
        class: OutcomeClass::KeyInvalid,
        reason: Some("invalid_api_key"),
        at_ms: 1_000,
    };
    // The file stays locked until this test releases it, so nothing here may
    // wait for it. How long a read may take is measured exactly, on a paused
    // clock, in the store's unit tests.
    resilient
        .record("anthropic", update)
        .now_or_never()
        .expect("record returns at once, before the file is written")
        .unwrap();
    // Reads fall back to what this process knows.
    let seen = tokio::time::timeout(
        Duration::from_secs(10),
        record_of(&*resilient, "anthropic", INVALID),
    )
    .await
    .expect("a read gives up on the locked file");
    assert!(seen.is_some_and(|r| r.health.is_disabled()));
    assert!(
        reader.load("anthropic").await.is_err(),
        "the file is locked"
    );

    locker.execute_batch("COMMIT;").unwrap();
    drop(locker);
    eventually_async(
        "the update to reach the file",
        Duration::from_secs(10),
        || async {
            stored(&reader, "anthropic", INVALID)
                .await
                .is_some_and(|r| r.health.is_disabled() && r.requests == 1)
        },
    )
    .await;
}

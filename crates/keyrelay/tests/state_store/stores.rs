//! What only one store has: SQLite's schema version and WAL mode, Redis's
//! schema key and cooling marker. What every store promises is in
//! `contract.rs`.

use std::time::Duration;

use keypool::{KeyHealth, KeyUpdate, OutcomeClass};
use keyrelay::store::redis::RedisStore;
use keyrelay::store::sqlite::{SqliteStore, SCHEMA_VERSION};
use keyrelay::store::{Backend, KeyDelta};
use testkit::RedisServer;

use super::TempDir;

const POOL: &str = "gemini";
const ID: &str = "0123456789ab";

fn sqlite_in(dir: &TempDir) -> SqliteStore {
    SqliteStore::new(dir.join("state.db"), Duration::from_secs(5)).unwrap()
}

#[tokio::test]
async fn sqlite_files_carry_their_schema_version() {
    let dir = TempDir::new("schema");
    sqlite_in(&dir).load(POOL).await.unwrap();
    let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_sqlite_file_from_a_newer_keyrelay_is_refused_and_left_alone() {
    let dir = TempDir::new("newer");
    let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    let err = sqlite_in(&dir).load(POOL).await.unwrap_err().to_string();
    assert!(err.contains("newer keyrelay"), "{err}");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

/// A file written by a keyrelay before per-model cooldowns (schema 1) is
/// brought forward in place: its rows stay, and model cooldowns then persist.
#[tokio::test]
async fn a_schema_1_sqlite_file_is_migrated_and_keeps_its_rows() {
    let dir = TempDir::new("migrate");
    {
        let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE key_state (
                pool TEXT NOT NULL, key_id TEXT NOT NULL,
                cooling_until_ms INTEGER NOT NULL DEFAULT 0, cooling_class TEXT,
                disabled_at_ms INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT,
                reinstated_at_ms INTEGER NOT NULL DEFAULT 0,
                requests INTEGER NOT NULL DEFAULT 0, success INTEGER NOT NULL DEFAULT 0,
                client_error INTEGER NOT NULL DEFAULT 0, key_invalid INTEGER NOT NULL DEFAULT 0,
                key_no_credit INTEGER NOT NULL DEFAULT 0, quota_daily INTEGER NOT NULL DEFAULT 0,
                rate_limited INTEGER NOT NULL DEFAULT 0, transient INTEGER NOT NULL DEFAULT 0,
                provider_down INTEGER NOT NULL DEFAULT 0, last_class TEXT, last_reason TEXT,
                last_used_ms INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (pool, key_id)) WITHOUT ROWID;
             INSERT INTO key_state (pool, key_id, requests, success, last_class, last_used_ms)
                VALUES ('gemini', '0123456789ab', 7, 7, 'success', 5);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = sqlite_in(&dir);
    let records = store.load(POOL).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].requests, 7);

    let mut health = KeyHealth::default();
    health.cool_model_until(
        "gemini-2.5-pro",
        4_000_000_000_000,
        OutcomeClass::QuotaDaily,
    );
    let update = KeyUpdate {
        id: ID,
        health: &health,
        class: OutcomeClass::QuotaDaily,
        reason: None,
        at_ms: 9,
    };
    store
        .apply(&[KeyDelta::attempt(POOL, &update)])
        .await
        .unwrap();
    let record = sqlite_in(&dir).load(POOL).await.unwrap().remove(0);
    assert_eq!(record.requests, 8);
    assert_eq!(
        record.health.model_cooling_until(Some("gemini-2.5-pro")),
        4_000_000_000_000
    );
    let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

/// Processes starting together on a new file all switch it to WAL; while one
/// does, it holds the write lock, and SQLite fails the others' switch at once
/// instead of waiting `busy_timeout`. The store waits, as for any lock.
#[tokio::test]
async fn a_new_sqlite_file_locked_by_another_process_is_waited_for_not_failed() {
    let dir = TempDir::new("wal-switch");
    let other = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let held = Duration::from_millis(300);
    let release = std::thread::spawn(move || {
        std::thread::sleep(held);
        other.execute_batch("COMMIT").unwrap();
    });
    let started = std::time::Instant::now();
    let answer = sqlite_in(&dir).load(POOL).await;
    release.join().unwrap();
    assert_eq!(answer.unwrap(), Vec::new());
    assert!(
        started.elapsed() >= held,
        "answered while the lock was held"
    );
    let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn redis_carries_its_schema_version_and_a_cooling_marker() {
    let server = RedisServer::start().await;
    let store = RedisStore::new(&server.url()).unwrap();
    let until = 4_000_000_000_000;
    let health = KeyHealth {
        cooling_until_ms: until,
        cooling_class: Some(OutcomeClass::RateLimited),
        ..KeyHealth::default()
    };
    let update = KeyUpdate {
        id: ID,
        health: &health,
        class: OutcomeClass::RateLimited,
        reason: None,
        at_ms: 1,
    };
    store
        .apply(&[KeyDelta::attempt(POOL, &update)])
        .await
        .unwrap();
    let mut conn = ::redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let version: String = ::redis::cmd("GET")
        .arg("keyrelay:schema")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(version, "1");
    let marker = RedisStore::cooling_key(POOL, ID);
    let expires_at: i64 = ::redis::cmd("PEXPIRETIME")
        .arg(&marker)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        expires_at, until as i64,
        "the marker expires with the cooldown"
    );
}

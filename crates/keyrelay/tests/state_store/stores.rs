//! Each store on its own, run against SQLite and Redis alike: merges, event
//! order, concurrent writers, reopening, schema version.

use std::sync::Arc;
use std::time::Duration;

use keypool::{KeyHealth, KeyUpdate, OutcomeClass, StateStore};
use keyrelay::store::redis::RedisStore;
use keyrelay::store::sqlite::{SqliteStore, SCHEMA_VERSION};
use testkit::RedisServer;

use super::TempDir;

const POOL: &str = "gemini";
const ID: &str = "0123456789ab";

/// Opens independent instances of one store (own connection each), as
/// separate processes would.
enum Fixture {
    Sqlite(TempDir),
    Redis(RedisServer),
}

impl Fixture {
    async fn sqlite() -> Fixture {
        Fixture::Sqlite(TempDir::new("stores"))
    }

    async fn redis() -> Fixture {
        Fixture::Redis(RedisServer::start().await)
    }

    fn open(&self) -> Arc<dyn StateStore> {
        match self {
            Fixture::Sqlite(dir) => {
                Arc::new(SqliteStore::new(dir.join("state.db"), Duration::from_secs(5)).unwrap())
            }
            Fixture::Redis(server) => Arc::new(RedisStore::new(&server.url()).unwrap()),
        }
    }
}

async fn attempt(store: &dyn StateStore, class: OutcomeClass, health: &KeyHealth, at_ms: u64) {
    let update = KeyUpdate {
        id: ID,
        health,
        class,
        reason: Some(class.as_str()),
        at_ms,
    };
    store.record(POOL, update).await.unwrap();
}

async fn the_record(store: &dyn StateStore) -> keypool::KeyRecord {
    let records = store.load(POOL).await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    records.into_iter().next().unwrap()
}

fn cooling(until_ms: u64, class: OutcomeClass) -> KeyHealth {
    KeyHealth {
        cooling_until_ms: until_ms,
        cooling_class: Some(class),
        ..KeyHealth::default()
    }
}

async fn merge_keeps_the_later_cooldown_deadline(fixture: Fixture) {
    let (a, b) = (fixture.open(), fixture.open());
    let later = cooling(4_000_000_000_000, OutcomeClass::QuotaDaily);
    let sooner = cooling(3_000_000_000_000, OutcomeClass::RateLimited);
    attempt(&*a, OutcomeClass::QuotaDaily, &later, 10).await;
    attempt(&*b, OutcomeClass::RateLimited, &sooner, 20).await;
    let record = the_record(&*fixture.open()).await;
    assert_eq!(record.health.cooling_until_ms, 4_000_000_000_000);
    assert_eq!(record.health.cooling_class, Some(OutcomeClass::QuotaDaily));
    assert_eq!(
        (record.last_class, record.last_used_ms),
        (Some(OutcomeClass::RateLimited), 20),
        "the latest attempt is the last one"
    );
}

async fn the_latest_disable_or_reinstate_event_wins(fixture: Fixture) {
    let (a, b) = (fixture.open(), fixture.open());
    let mut health = KeyHealth {
        disabled_at_ms: 100,
        disabled_reason: Some("invalid_api_key".into()),
        ..KeyHealth::default()
    };
    attempt(&*a, OutcomeClass::KeyInvalid, &health, 100).await;
    assert!(the_record(&*b).await.health.is_disabled());

    health.reinstated_at_ms = 200;
    b.merge_health(POOL, ID, &health).await.unwrap();
    assert!(!the_record(&*a).await.health.is_disabled());

    let revoked = KeyHealth {
        disabled_at_ms: 300,
        disabled_reason: Some("revoked".into()),
        ..KeyHealth::default()
    };
    attempt(&*a, OutcomeClass::KeyInvalid, &revoked, 300).await;
    // An older event arriving late changes nothing.
    let stale = KeyHealth {
        disabled_at_ms: 150,
        disabled_reason: Some("stale".into()),
        ..KeyHealth::default()
    };
    b.merge_health(POOL, ID, &stale).await.unwrap();
    let health = the_record(&*fixture.open()).await.health;
    assert!(health.is_disabled());
    assert_eq!((health.disabled_at_ms, health.reinstated_at_ms), (300, 200));
    assert_eq!(health.disabled_reason.as_deref(), Some("revoked"));
}

async fn concurrent_writers_lose_no_counter_increments(fixture: Fixture) {
    const TASKS: u64 = 8;
    const EACH: u64 = 25;
    let stores = [fixture.open(), fixture.open()];
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..TASKS {
        let store = stores[(t % 2) as usize].clone();
        tasks.spawn(async move {
            for i in 0..EACH {
                let class = if i % 5 == 0 {
                    OutcomeClass::RateLimited
                } else {
                    OutcomeClass::Success
                };
                let health = cooling(1_000 + t * 100 + i, class);
                attempt(&*store, class, &health, t * 100 + i).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let record = the_record(&*fixture.open()).await;
    assert_eq!(record.requests, TASKS * EACH);
    assert_eq!(
        record.outcomes.get(OutcomeClass::RateLimited),
        TASKS * EACH / 5
    );
    assert_eq!(
        record.outcomes.get(OutcomeClass::Success),
        TASKS * EACH * 4 / 5
    );
    assert_eq!(record.health.cooling_until_ms, 1_000 + 7 * 100 + 24);
}

async fn reopening_keeps_the_records(fixture: Fixture) {
    let store = fixture.open();
    attempt(
        &*store,
        OutcomeClass::KeyNoCredit,
        &cooling(5_000, OutcomeClass::KeyNoCredit),
        7,
    )
    .await;
    drop(store);
    let record = the_record(&*fixture.open()).await;
    assert_eq!(record.requests, 1);
    assert_eq!(record.outcomes.get(OutcomeClass::KeyNoCredit), 1);
    assert_eq!(record.health.cooling_until_ms, 5_000);
    assert_eq!(record.last_reason.as_deref(), Some("key_no_credit"));
}

macro_rules! on_both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test(super::Fixture::sqlite().await).await;
            })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                super::$test(super::Fixture::redis().await).await;
            })*
        }
    };
}

on_both_stores!(
    merge_keeps_the_later_cooldown_deadline,
    the_latest_disable_or_reinstate_event_wins,
    concurrent_writers_lose_no_counter_increments,
    reopening_keeps_the_records,
);

#[tokio::test]
async fn sqlite_files_carry_their_schema_version() {
    let fixture = Fixture::sqlite().await;
    let store = fixture.open();
    store.load(POOL).await.unwrap();
    let Fixture::Sqlite(dir) = &fixture else {
        unreachable!()
    };
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
    let fixture = Fixture::sqlite().await;
    let Fixture::Sqlite(dir) = &fixture else {
        unreachable!()
    };
    let conn = rusqlite::Connection::open(dir.join("state.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    let err = fixture.open().load(POOL).await.unwrap_err().to_string();
    assert!(err.contains("newer keyrelay"), "{err}");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap();
    assert_eq!(version, 99);
}

#[tokio::test]
async fn redis_carries_its_schema_version_and_a_cooling_marker() {
    let fixture = Fixture::redis().await;
    let store = fixture.open();
    let until = 4_000_000_000_000;
    attempt(
        &*store,
        OutcomeClass::RateLimited,
        &cooling(until, OutcomeClass::RateLimited),
        1,
    )
    .await;
    let Fixture::Redis(server) = &fixture else {
        unreachable!()
    };
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

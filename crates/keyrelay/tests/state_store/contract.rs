//! What every `StateStore` promises, run on each one: the in-memory store,
//! and the write-behind wrapper over SQLite and over a real `redis-server`.
//! One case is one async fn; `contract!` runs it on every store.
//!
//! The persistent stores are read back through a fresh handle (its own
//! connection, an empty mirror), so what is checked is the merge the backend
//! did itself (SQL, Lua), not what one process remembers.

use std::sync::Arc;
use std::time::Duration;

use keypool::{KeyHealth, KeyRecord, KeyUpdate, MemoryStore, OutcomeClass, StateStore};
use keyrelay::store::redis::RedisStore;
use keyrelay::store::sqlite::SqliteStore;
use keyrelay::store::{Backend, ResilientOptions, ResilientStore};
use testkit::RedisServer;

use super::TempDir;

const POOL: &str = "gemini";
const ID: &str = "0123456789ab";

/// Where the data lives; [`Backing::open`] makes one more handle on it, as
/// another process (or another pool of this one) would.
pub enum Backing {
    Memory(Arc<MemoryStore>),
    Sqlite(TempDir),
    Redis(RedisServer),
}

impl Backing {
    async fn memory() -> Backing {
        Backing::Memory(Arc::new(MemoryStore::new()))
    }

    async fn sqlite() -> Backing {
        Backing::Sqlite(TempDir::new("contract"))
    }

    async fn redis() -> Backing {
        Backing::Redis(RedisServer::start().await)
    }

    /// A new handle: the shared `MemoryStore`, or a `ResilientStore` over
    /// its own backend connection. Timeouts are generous so a busy machine
    /// slows the tests down rather than sending them to the memory fallback.
    fn open(&self) -> Arc<dyn StateStore> {
        let backend: Arc<dyn Backend> = match self {
            Backing::Memory(store) => return store.clone(),
            Backing::Sqlite(dir) => {
                Arc::new(SqliteStore::new(dir.join("state.db"), Duration::from_secs(4)).unwrap())
            }
            Backing::Redis(server) => Arc::new(RedisStore::new(&server.url()).unwrap()),
        };
        let options = ResilientOptions {
            timeout: Duration::from_secs(5),
            ..ResilientOptions::default()
        };
        Arc::new(ResilientStore::start(backend, options).unwrap())
    }
}

/// Records one attempt and waits until it has reached the backend, so the
/// backend merges each write (written behind, writes would coalesce first).
async fn attempt(store: &dyn StateStore, class: OutcomeClass, health: &KeyHealth, at_ms: u64) {
    record(store, class, health, at_ms).await;
    store.flush().await.unwrap();
}

async fn record(store: &dyn StateStore, class: OutcomeClass, health: &KeyHealth, at_ms: u64) {
    let update = KeyUpdate {
        id: ID,
        health,
        class,
        reason: Some(class.as_str()),
        at_ms,
    };
    store.record(POOL, update).await.unwrap();
}

async fn merge_health(store: &dyn StateStore, health: &KeyHealth) {
    store.merge_health(POOL, ID, health).await.unwrap();
    store.flush().await.unwrap();
}

/// The key's record as a fresh handle reads it.
async fn the_record(backing: &Backing) -> KeyRecord {
    let records = backing.open().load(POOL).await.unwrap();
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

fn disabled(at_ms: u64, reason: &str) -> KeyHealth {
    KeyHealth {
        disabled_at_ms: at_ms,
        disabled_reason: Some(reason.into()),
        ..KeyHealth::default()
    }
}

async fn a_cooldown_deadline_is_never_shortened(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let later = cooling(4_000_000_000_000, OutcomeClass::QuotaDaily);
    let sooner = cooling(3_000_000_000_000, OutcomeClass::RateLimited);
    attempt(&*a, OutcomeClass::QuotaDaily, &later, 10).await;
    attempt(&*b, OutcomeClass::RateLimited, &sooner, 20).await;
    let record = the_record(&backing).await;
    assert_eq!(record.health.cooling_until_ms, 4_000_000_000_000);
    assert_eq!(record.health.cooling_class, Some(OutcomeClass::QuotaDaily));
    assert_eq!(record.requests, 2, "both attempts count");
}

async fn the_latest_attempt_sets_the_last_class_whatever_the_arrival_order(backing: Backing) {
    let store = backing.open();
    let limited = cooling(9_000, OutcomeClass::RateLimited);
    attempt(&*store, OutcomeClass::RateLimited, &limited, 2_000).await;
    attempt(&*store, OutcomeClass::Success, &KeyHealth::default(), 3_000).await;
    // An earlier attempt reported late (another process, a slow writer).
    attempt(
        &*store,
        OutcomeClass::Transient,
        &KeyHealth::default(),
        1_000,
    )
    .await;
    let record = the_record(&backing).await;
    assert_eq!(
        (
            record.last_class,
            record.last_reason.as_deref(),
            record.last_used_ms
        ),
        (Some(OutcomeClass::Success), Some("success"), 3_000)
    );
    assert_eq!(record.requests, 3);
    for class in [
        OutcomeClass::RateLimited,
        OutcomeClass::Success,
        OutcomeClass::Transient,
    ] {
        assert_eq!(record.outcomes.get(class), 1, "{class}");
    }
    assert_eq!(record.health.cooling_until_ms, 9_000);
}

async fn the_latest_disable_or_reinstate_event_wins(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let mut health = disabled(100, "invalid_api_key");
    attempt(&*a, OutcomeClass::KeyInvalid, &health, 100).await;
    assert!(the_record(&backing).await.health.is_disabled());

    health.reinstated_at_ms = 200;
    merge_health(&*b, &health).await;
    assert!(!the_record(&backing).await.health.is_disabled());

    attempt(
        &*a,
        OutcomeClass::KeyInvalid,
        &disabled(300, "revoked"),
        300,
    )
    .await;
    // An older event arriving late changes nothing.
    merge_health(&*b, &disabled(150, "stale")).await;
    let health = the_record(&backing).await.health;
    assert!(health.is_disabled());
    assert_eq!((health.disabled_at_ms, health.reinstated_at_ms), (300, 200));
    assert_eq!(health.disabled_reason.as_deref(), Some("revoked"));
}

async fn concurrent_writers_on_two_handles_lose_no_counts(backing: Backing) {
    const TASKS: u64 = 8;
    const EACH: u64 = 25;
    let stores = [backing.open(), backing.open()];
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
                record(&*store, class, &health, t * 100 + i).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    for store in &stores {
        store.flush().await.unwrap();
    }
    let record = the_record(&backing).await;
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
    assert_eq!(record.last_used_ms, 7 * 100 + 24);
}

async fn a_new_handle_sees_what_a_dropped_one_wrote(backing: Backing) {
    let store = backing.open();
    let no_credit = cooling(5_000, OutcomeClass::KeyNoCredit);
    attempt(&*store, OutcomeClass::KeyNoCredit, &no_credit, 7).await;
    drop(store);
    let record = the_record(&backing).await;
    assert_eq!(record.id, ID);
    assert_eq!(record.requests, 1);
    assert_eq!(record.outcomes.get(OutcomeClass::KeyNoCredit), 1);
    assert_eq!(record.health.cooling_until_ms, 5_000);
    assert_eq!(record.last_reason.as_deref(), Some("key_no_credit"));
}

async fn a_pool_never_written_loads_empty(backing: Backing) {
    let store = backing.open();
    attempt(&*store, OutcomeClass::Success, &KeyHealth::default(), 1).await;
    assert_eq!(store.load("openrouter").await.unwrap(), Vec::new());
    assert_eq!(backing.open().load("openrouter").await.unwrap(), Vec::new());
}

async fn a_health_change_without_an_attempt_counts_nothing(backing: Backing) {
    let store = backing.open();
    merge_health(&*store, &disabled(100, "invalid_api_key")).await;
    let record = the_record(&backing).await;
    assert!(record.health.is_disabled());
    assert_eq!(
        record.health.disabled_reason.as_deref(),
        Some("invalid_api_key")
    );
    assert_eq!((record.requests, record.outcomes.failures()), (0, 0));
    assert_eq!((record.last_class, record.last_used_ms), (None, 0));

    attempt(
        &*store,
        OutcomeClass::RateLimited,
        &KeyHealth::default(),
        50,
    )
    .await;
    let reinstated = KeyHealth {
        reinstated_at_ms: 200,
        ..KeyHealth::default()
    };
    merge_health(&*store, &reinstated).await;
    let record = the_record(&backing).await;
    assert!(!record.health.is_disabled());
    assert_eq!(record.requests, 1);
    assert_eq!(
        (record.last_class, record.last_used_ms),
        (Some(OutcomeClass::RateLimited), 50),
        "a health change is not an attempt"
    );
}

/// Far in the future, so no store sweeps these as ended.
const LATER: u64 = 4_000_000_000_000;

async fn model_cooldowns_merge_per_model_and_leave_the_key_available(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let mut first = KeyHealth::default();
    first.cool_model_until("gemini-2.5-pro", LATER + 500, OutcomeClass::QuotaDaily);
    first.cool_model_until("gemini-2.5-flash", LATER, OutcomeClass::RateLimited);
    attempt(&*a, OutcomeClass::QuotaDaily, &first, 10).await;
    let mut second = KeyHealth::default();
    // Sooner for pro (must not shorten it), later for flash, a new model.
    second.cool_model_until("gemini-2.5-pro", LATER, OutcomeClass::RateLimited);
    second.cool_model_until("gemini-2.5-flash", LATER + 900, OutcomeClass::QuotaDaily);
    second.cool_model_until("models/gemini 3", LATER + 1, OutcomeClass::RateLimited);
    attempt(&*b, OutcomeClass::RateLimited, &second, 20).await;
    // An ended model cooldown is not brought back.
    let mut ended = KeyHealth::default();
    ended.cool_model_until("old-model", 1_000, OutcomeClass::RateLimited);
    merge_health(&*a, &ended).await;

    let record = the_record(&backing).await;
    let scoped: Vec<(&str, u64, OutcomeClass)> = record
        .health
        .scoped_at(2_000)
        .map(|c| (c.model.as_str(), c.until_ms, c.class))
        .collect();
    assert_eq!(
        scoped,
        [
            ("gemini-2.5-flash", LATER + 900, OutcomeClass::QuotaDaily),
            ("gemini-2.5-pro", LATER + 500, OutcomeClass::QuotaDaily),
            ("models/gemini 3", LATER + 1, OutcomeClass::RateLimited),
        ]
    );
    assert_eq!(
        record.health.cooling_until_ms, 0,
        "the key itself is not cooling"
    );
    assert!(record.health.is_available_for(2_000, Some("other-model")));
    assert!(!record
        .health
        .is_available_for(2_000, Some("gemini-2.5-pro")));
}

async fn budget_usage_adds_across_handles_per_bucket(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut first = Vec::new();
    keypool::budget::count(&mut first, now, 1, 0);
    let mut second = Vec::new();
    keypool::budget::count(&mut second, now, 1, 250);
    a.record_usage(POOL, ID, &first).await.unwrap();
    b.record_usage(POOL, ID, &second).await.unwrap();
    a.record_usage(POOL, ID, &first).await.unwrap();
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    let record = the_record(&backing).await;
    for span in keypool::Span::ALL {
        let bucket = record
            .usage
            .iter()
            .find(|u| u.span == span && u.index == now / span.width_ms())
            .unwrap_or_else(|| panic!("{span:?} bucket in {:?}", record.usage));
        assert_eq!((bucket.requests, bucket.tokens), (3, 250), "{span:?}");
    }
    assert_eq!(record.requests, 0, "usage is not an attempt");
    // A day-old bucket is gone or no longer counts.
    let mut old = Vec::new();
    keypool::budget::count(&mut old, now - 90_000_000, 5, 0);
    a.record_usage(POOL, ID, &old).await.unwrap();
    a.flush().await.unwrap();
    let record = the_record(&backing).await;
    assert!(record
        .usage
        .iter()
        .all(|u| u.requests <= 3 || !u.counts_at(now)));
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Backing::memory().await).await;
            })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Backing::sqlite().await).await;
            })*
        }
        mod redis {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::Backing::redis().await).await;
            })*
        }
    };
}

contract!(
    budget_usage_adds_across_handles_per_bucket,
    model_cooldowns_merge_per_model_and_leave_the_key_available,
    a_cooldown_deadline_is_never_shortened,
    the_latest_attempt_sets_the_last_class_whatever_the_arrival_order,
    the_latest_disable_or_reinstate_event_wins,
    concurrent_writers_on_two_handles_lose_no_counts,
    a_new_handle_sees_what_a_dropped_one_wrote,
    a_pool_never_written_loads_empty,
    a_health_change_without_an_attempt_counts_nothing,
);

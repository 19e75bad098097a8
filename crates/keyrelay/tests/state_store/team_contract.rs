//! What every `TeamStore` promises, run on each one: memory, SQLite and a
//! real `redis-server`. Changes are read back through a second handle (its
//! own connection), as another process would see them.

use std::sync::Arc;
use std::time::Duration;

use keyrelay::store::redis::RedisStore;
use keyrelay::store::sqlite::SqliteStore;
use keyrelay::store::team::{
    CounterAdd, Dimension, MemoryTeamStore, SpendBatch, SpendCounts, SpendRow, TeamError,
    TeamStore, UsdBudget, VirtualKey,
};
use testkit::RedisServer;

use super::TempDir;

pub enum Backing {
    Memory(Arc<MemoryTeamStore>),
    Sqlite(TempDir),
    Redis(RedisServer),
}

impl Backing {
    async fn memory() -> Backing {
        Backing::Memory(Arc::new(MemoryTeamStore::new()))
    }

    async fn sqlite() -> Backing {
        Backing::Sqlite(TempDir::new("team-contract"))
    }

    async fn redis() -> Backing {
        Backing::Redis(RedisServer::start().await)
    }

    /// A new handle on the same data.
    fn open(&self) -> Arc<dyn TeamStore> {
        match self {
            Backing::Memory(store) => store.clone(),
            Backing::Sqlite(dir) => {
                Arc::new(SqliteStore::new(dir.join("state.db"), Duration::from_secs(4)).unwrap())
            }
            Backing::Redis(server) => Arc::new(RedisStore::new(&server.url()).unwrap()),
        }
    }
}

fn key(id: &str, name: &str) -> VirtualKey {
    VirtualKey {
        id: id.into(),
        hash: format!("{id:0>64}"),
        name: name.into(),
        team: Some("research".into()),
        routes: vec!["gemini@*".into(), "openai@gpt-4.1".into()],
        rpm: Some(60),
        tpm: None,
        budget: UsdBudget {
            day: Some(10_000_000),
            week: None,
            month: Some(1_000_000_000),
        },
        expires_at_ms: Some(1_900_000_000_000),
        disabled_at_ms: None,
        created_at_ms: 1_700_000_000_000,
        updated_at_ms: 1_700_000_000_000,
    }
}

async fn a_created_key_is_found_by_hash_and_listed_by_another_handle(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let alice = key("0000000000a1", "alice");
    a.create_key(&alice).await.unwrap();
    assert_eq!(b.keys().await.unwrap(), vec![alice.clone()]);
    assert_eq!(b.key_by_hash(&alice.hash).await.unwrap(), Some(alice));
    assert_eq!(b.key_by_hash(&"f".repeat(64)).await.unwrap(), None);
}

async fn names_are_unique_and_a_rename_frees_the_old_name(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    a.create_key(&key("0000000000a1", "alice")).await.unwrap();
    let clash = b.create_key(&key("0000000000b2", "alice")).await;
    assert!(matches!(clash, Err(TeamError::NameTaken(n)) if n == "alice"));
    b.create_key(&key("0000000000b2", "bob")).await.unwrap();
    let onto_bob = a.replace_key(&key("0000000000a1", "bob")).await;
    assert!(matches!(onto_bob, Err(TeamError::NameTaken(_))));
    let mut renamed = key("0000000000a1", "alice-2");
    renamed.disabled_at_ms = Some(1_700_000_100_000);
    a.replace_key(&renamed).await.unwrap();
    // The old name is free again; the rename kept everything else.
    b.create_key(&key("0000000000c3", "alice")).await.unwrap();
    let keys = b.keys().await.unwrap();
    assert_eq!(keys.len(), 3);
    assert!(keys.contains(&renamed));
}

async fn changing_or_deleting_a_missing_key_is_not_found(backing: Backing) {
    let store = backing.open();
    let missing = store.replace_key(&key("00000000dead", "ghost")).await;
    assert!(matches!(missing, Err(TeamError::NotFound(id)) if id == "00000000dead"));
    let missing = store.delete_key("00000000dead").await;
    assert!(matches!(missing, Err(TeamError::NotFound(_))));
    assert!(store.keys().await.unwrap().is_empty());
}

async fn every_change_bumps_the_version_another_handle_reads(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let mut seen = b.keys_version().await.unwrap();
    let alice = key("0000000000a1", "alice");
    a.create_key(&alice).await.unwrap();
    let after_create = b.keys_version().await.unwrap();
    assert!(after_create > seen);
    seen = after_create;
    a.replace_key(&alice).await.unwrap();
    let after_replace = b.keys_version().await.unwrap();
    assert!(after_replace > seen);
    seen = after_replace;
    a.delete_key(&alice.id).await.unwrap();
    assert!(b.keys_version().await.unwrap() > seen);
    assert_eq!(b.key_by_hash(&alice.hash).await.unwrap(), None);
    // A refused change leaves the version alone.
    let before = b.keys_version().await.unwrap();
    let _ = a.delete_key(&alice.id).await;
    assert_eq!(b.keys_version().await.unwrap(), before);
}

fn row(day: &str, dimension: Dimension, name: &str, nanos: u64) -> SpendRow {
    SpendRow {
        day: day.into(),
        dimension,
        name: name.into(),
        counts: SpendCounts {
            requests: 1,
            input_tokens: 100,
            output_tokens: 20,
            cache_read_tokens: 3,
            cache_write_tokens: 4,
            usd_nanos: nanos,
            unpriced_requests: u64::from(nanos == 0),
            estimated_requests: 0,
        },
    }
}

async fn spend_adds_across_concurrent_writers_and_reads_by_day(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let batch = |day: &str| SpendBatch {
        rows: vec![
            row(day, Dimension::Key, "0000000000a1", 1_500),
            row(day, Dimension::Model, "openai@gpt-4.1", 1_500),
            row(day, Dimension::Model, "odd|model|name", 0),
        ],
        counters: Vec::new(),
    };
    let writers: Vec<_> = (0..20)
        .map(|n| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let batch = batch("2025-06-02");
            tokio::spawn(async move { store.add_spend(&batch).await.unwrap() })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    a.add_spend(&batch("2025-06-01")).await.unwrap();
    a.add_spend(&batch("2025-06-04")).await.unwrap();

    let rows = b.spend("2025-06-02", "2025-06-03").await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let key = rows.iter().find(|r| r.dimension == Dimension::Key).unwrap();
    assert_eq!(key.day, "2025-06-02");
    assert_eq!(key.name, "0000000000a1");
    assert_eq!(
        (
            key.counts.requests,
            key.counts.usd_nanos,
            key.counts.cache_write_tokens
        ),
        (20, 30_000, 80)
    );
    let odd = rows.iter().find(|r| r.name == "odd|model|name").unwrap();
    assert_eq!(odd.counts.unpriced_requests, 20);
    assert_eq!(b.spend("2025-06-01", "2025-06-30").await.unwrap().len(), 9);
}

async fn counters_add_across_handles_and_expire(backing: Backing) {
    let (a, b) = (backing.open(), backing.open());
    let now = wall_ms();
    let add = |name: &str, add: u64, expires_at_ms: u64| SpendBatch {
        rows: Vec::new(),
        counters: vec![CounterAdd {
            name: name.into(),
            add,
            expires_at_ms,
        }],
    };
    a.add_spend(&add("vk:a1:d:2025-06-02", 700, now + 60_000))
        .await
        .unwrap();
    b.add_spend(&add("vk:a1:d:2025-06-02", 300, now + 60_000))
        .await
        .unwrap();
    a.add_spend(&add("vk:a1:r:1", 5, now + 1_000))
        .await
        .unwrap();
    let names = [
        "vk:a1:d:2025-06-02".to_owned(),
        "vk:a1:r:1".to_owned(),
        "never".to_owned(),
    ];
    assert_eq!(b.counters(&names, now).await.unwrap(), vec![1000, 5, 0]);
    // Once expired it reads 0 (Redis expires it itself; the others by `now`).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let later = wall_ms();
    assert_eq!(b.counters(&names, later).await.unwrap(), vec![1000, 0, 0]);
    // An expired counter restarts from its next increment.
    a.add_spend(&add("vk:a1:r:1", 2, later + 60_000))
        .await
        .unwrap();
    assert_eq!(b.counters(&names[1..2], later).await.unwrap(), vec![2]);
}

fn wall_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since_epoch.as_millis()).unwrap()
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
    a_created_key_is_found_by_hash_and_listed_by_another_handle,
    names_are_unique_and_a_rename_frees_the_old_name,
    changing_or_deleting_a_missing_key_is_not_found,
    every_change_bumps_the_version_another_handle_reads,
    spend_adds_across_concurrent_writers_and_reads_by_day,
    counters_add_across_handles_and_expire,
);

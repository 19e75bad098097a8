use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keypool::{KeyHealth, KeyRecord, KeyUpdate, OutcomeClass, StateStore};

use super::spec::sqlite_file;
use super::warn::WarnLimiter;
use super::*;
use crate::env::MapEnv;

#[test]
fn state_choices_parse_and_print_back() {
    for text in [
        "memory",
        "sqlite",
        "sqlite:/tmp/x.db",
        "redis://127.0.0.1:6379/2",
    ] {
        let spec: StateSpec = text.parse().unwrap();
        assert_eq!(spec.to_string(), text);
    }
    assert_eq!(
        "sqlite:///var/k.db".parse::<StateSpec>().unwrap(),
        StateSpec::Sqlite(Some(PathBuf::from("/var/k.db")))
    );
    let err = "postgres://x".parse::<StateSpec>().unwrap_err().to_string();
    assert!(
        err.contains("memory, sqlite, sqlite:PATH or redis://"),
        "{err}"
    );
    assert!("sqlite:".parse::<StateSpec>().is_err());
}

#[test]
fn a_redis_password_is_never_printed() {
    let spec: StateSpec = "redis://:hunter2@cache.internal:6379/3".parse().unwrap();
    assert_eq!(spec.to_string(), "redis://***@cache.internal:6379/3");
    assert_eq!(
        spec,
        StateSpec::Redis("redis://:hunter2@cache.internal:6379/3".into()),
        "the store still gets the whole URL"
    );
    let open = self::redis::RedisStore::new("redis://:hunter2@127.0.0.1:1/0").unwrap();
    assert_eq!(open.describe(), "redis 127.0.0.1:1/0");
}

#[test]
fn the_config_file_chooses_the_store() {
    let config = crate::config::Config::from_toml(
        "[state]\nstore = \"redis://10.0.0.5:6380/1\"\ntimeout_ms = 100\n",
    )
    .unwrap();
    assert_eq!(
        config.state.store,
        Some(StateSpec::Redis("redis://10.0.0.5:6380/1".into()))
    );
    assert_eq!(config.state.timeout_ms, 100);
    assert_eq!(crate::config::Config::default().state.store, None);
    assert!(crate::config::Config::from_toml("[state]\nstore = \"mongo\"\n").is_err());
}

#[test]
fn the_default_path_follows_xdg_then_home() {
    let xdg = MapEnv::new([("XDG_STATE_HOME", "/x/state"), ("HOME", "/home/u")]);
    assert_eq!(
        sqlite_file(None, &xdg),
        Some(PathBuf::from("/x/state/keyrelay/state.db"))
    );
    let home = MapEnv::new([("XDG_STATE_HOME", "relative"), ("HOME", "/home/u")]);
    assert_eq!(
        sqlite_file(None, &home),
        Some(PathBuf::from("/home/u/.local/state/keyrelay/state.db"))
    );
    assert_eq!(sqlite_file(None, &MapEnv::default()), None);
}

#[test]
fn a_leading_tilde_is_the_home_of_the_given_environment() {
    let StateSpec::Sqlite(path) = "sqlite:~/k/state.db".parse().unwrap() else {
        panic!("not sqlite")
    };
    let env = MapEnv::new([("HOME", "/home/u")]);
    assert_eq!(
        sqlite_file(path.as_deref(), &env),
        Some(PathBuf::from("/home/u/k/state.db"))
    );
    assert_eq!(
        sqlite_file(Some(Path::new("/var/k~/x.db")), &env),
        Some(PathBuf::from("/var/k~/x.db"))
    );
}

#[tokio::test(start_paused = true)]
async fn warnings_are_limited_to_one_per_interval() {
    let limiter = WarnLimiter::new(Duration::from_secs(30));
    assert_eq!(limiter.allow(), Some(0));
    assert_eq!(limiter.allow(), None);
    assert_eq!(limiter.allow(), None);
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(limiter.allow(), Some(2), "says how many it held back");
    limiter.reset();
    assert_eq!(limiter.allow(), Some(0));
}

/// A backend that can be switched down (refusing, so nothing was written),
/// or made to hang; counts what reaches it.
#[derive(Default)]
struct FlakyBackend {
    down: AtomicBool,
    hang: AtomicBool,
    calls: AtomicUsize,
    applied: Mutex<Vec<KeyDelta>>,
}

impl Backend for FlakyBackend {
    fn describe(&self) -> String {
        "flaky".into()
    }

    fn load<'a>(&'a self, _pool: &'a str) -> BackendFuture<'a, Vec<KeyRecord>> {
        Box::pin(async move {
            self.gate().await?;
            Ok(Vec::new())
        })
    }

    fn apply<'a>(&'a self, deltas: &'a [KeyDelta]) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            self.gate().await?;
            self.applied.lock().unwrap().extend_from_slice(deltas);
            Ok(())
        })
    }
}

impl FlakyBackend {
    async fn gate(&self) -> Result<(), BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.down.load(Ordering::SeqCst) {
            return Err(BackendError::Malformed("down".into()));
        }
        Ok(())
    }

    fn requests(&self, id: &str) -> u64 {
        let applied = self.applied.lock().unwrap();
        applied
            .iter()
            .filter(|d| d.record.id == id)
            .map(|d| d.record.requests)
            .sum()
    }
}

fn fast_options() -> ResilientOptions {
    ResilientOptions {
        timeout: Duration::from_millis(250),
        retry_every: Duration::from_millis(100),
        ..ResilientOptions::default()
    }
}

async fn record(store: &ResilientStore, id: &str, health: &KeyHealth) {
    let update = KeyUpdate {
        id,
        health,
        class: OutcomeClass::KeyInvalid,
        reason: None,
        at_ms: 5,
    };
    store.record("anthropic", update).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_hanging_store_delays_neither_writes_nor_reads_beyond_the_timeout() {
    let backend = Arc::new(FlakyBackend::default());
    backend.hang.store(true, Ordering::SeqCst);
    let store = ResilientStore::start(backend.clone(), fast_options()).unwrap();
    let started = tokio::time::Instant::now();
    let disabled = KeyHealth {
        disabled_at_ms: 5,
        ..KeyHealth::default()
    };
    record(&store, "k1", &disabled).await;
    assert_eq!(started.elapsed(), Duration::ZERO, "record never waits");
    let records = store.load("anthropic").await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_millis(250));
    assert!(records[0].health.is_disabled(), "answered from memory");
    let again = tokio::time::Instant::now();
    store.load("anthropic").await.unwrap();
    assert_eq!(
        again.elapsed(),
        Duration::ZERO,
        "a known-down store is skipped"
    );
}

#[tokio::test(start_paused = true)]
async fn updates_made_while_the_store_is_down_reach_it_when_it_answers() {
    let backend = Arc::new(FlakyBackend::default());
    backend.down.store(true, Ordering::SeqCst);
    let store = ResilientStore::start(backend.clone(), fast_options()).unwrap();
    let disabled = KeyHealth {
        disabled_at_ms: 5,
        ..KeyHealth::default()
    };
    for _ in 0..100 {
        record(&store, "k1", &disabled).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!store.is_reachable());
    assert!(store.pending() <= 1, "queued updates coalesce per key");
    backend.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(store.is_reachable());
    assert_eq!(
        backend.requests("k1"),
        100,
        "refused writes are retried once"
    );
    let applied = backend.applied.lock().unwrap();
    assert!(applied
        .iter()
        .any(|d| d.record.id == "k1" && d.record.health.is_disabled()));
}

//! Key state stores against real servers: the contract every store keeps,
//! SQLite files and a real `redis-server` (started by the tests; they fail,
//! never skip, without it), and `keyrelay serve` processes sharing one store.

#![allow(clippy::unwrap_used)]

// A test crate's root resolves modules beside it; these live in state_store/.
#[path = "state_store/contract.rs"]
mod contract;
#[path = "state_store/faults.rs"]
mod faults;
#[path = "state_store/gateways.rs"]
mod gateways;
#[path = "state_store/redis_down.rs"]
mod redis_down;
#[path = "support/served.rs"]
mod served;
#[path = "state_store/stores.rs"]
mod stores;
#[path = "state_store/team_contract.rs"]
mod team_contract;
#[path = "state_store/team_gateways.rs"]
mod team_gateways;

pub use served::{serve, Served};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use keypool::{ApiKey, KeyRecord, StateStore};
use keyrelay::store::Backend;
use serde_json::json;

/// Obviously fake test keys.
pub const INVALID: &str = "test-key-state-invalid-00000001";
pub const LIMITED: &str = "test-key-state-limited-00000002";
pub const GOOD: &str = "test-key-state-good-000000000003";

/// The store id of a key: its fingerprint id.
pub fn id_of(key: &str) -> String {
    ApiKey::new(key, None).fingerprint().id().to_owned()
}

/// A fresh directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("keyrelay-state-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `pool`'s record for `key` in `store`, if the store answers and has one.
pub async fn record_of(store: &dyn StateStore, pool: &str, key: &str) -> Option<KeyRecord> {
    find(store.load(pool).await.ok()?, key)
}

/// `pool`'s record for `key` as a persistent store itself holds it (read
/// directly, no memory fallback), if it answers and has one.
pub async fn stored(backend: &dyn Backend, pool: &str, key: &str) -> Option<KeyRecord> {
    find(backend.load(pool).await.ok()?, key)
}

fn find(records: Vec<KeyRecord>, key: &str) -> Option<KeyRecord> {
    let id = id_of(key);
    records.into_iter().find(|r| r.id == id)
}

/// The environment of an Anthropic gateway over `keys` at `upstream`.
pub fn anthropic_env(
    upstream: &testkit::FakeUpstream,
    keys: &[&str],
) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_API_KEYS", keys.join(",")),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ]
}

/// Sends one Messages request; returns (status, attempts).
pub async fn ask(client: &reqwest::Client, url: &str) -> (u16, u32) {
    let response = client
        .post(format!("{url}/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": "hi"}],
        }))
        .send()
        .await
        .expect("gateway answers");
    let attempts = response
        .headers()
        .get("x-keyrelay-attempts")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (response.status().as_u16(), attempts)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

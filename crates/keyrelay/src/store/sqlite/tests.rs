use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keypool::{Span, UsageBucket};

use super::*;

const POOL: &str = "gemini";
const ID: &str = "0123456789ab";

/// A file of its own under the system's temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "keyrelay-sqlite-{name}-{}-{:?}",
            std::process::id(),
            SystemTime::now()
        ));
        TempFile(dir.join("state.db"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn ten_second_bucket(at_ms: u64) -> UsageBucket {
    UsageBucket {
        span: Span::TenSeconds,
        index: at_ms / Span::TenSeconds.width_ms(),
        requests: 1,
        tokens: 0,
    }
}

fn unix_ms(at: SystemTime) -> u64 {
    u64::try_from(at.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

/// The thread reads no clock of its own: expiry follows the store's
/// [`Clock`], which follows tokio's, so a paused and advanced clock moves it.
#[tokio::test(start_paused = true)]
async fn usage_expires_by_the_clock_of_the_async_side() {
    let file = TempFile::new("clock");
    let store = SqliteStore::new(&file.0, Duration::from_secs(5)).unwrap();
    let start_ms = unix_ms(SystemTime::now());
    let first = ten_second_bucket(start_ms);
    store
        .apply(&[KeyDelta::usage_only(POOL, ID, &[first])])
        .await
        .unwrap();
    let records = store.load(POOL).await.unwrap();
    assert_eq!(records[0].usage, vec![first]);

    // Two minutes later by tokio's clock only: the system's has hardly moved.
    tokio::time::advance(Duration::from_secs(120)).await;
    let records = store.load(POOL).await.unwrap();
    assert!(
        records.iter().all(|r| r.usage.is_empty()),
        "a bucket out of its window is not loaded: {records:?}"
    );

    // A write sweeps the file by the same clock.
    let second = ten_second_bucket(start_ms + 120_000);
    store
        .apply(&[KeyDelta::usage_only(POOL, ID, &[second])])
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&file.0).unwrap();
    let buckets: Vec<i64> = conn
        .prepare("SELECT bucket FROM key_usage")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(buckets, vec![i64::try_from(second.index).unwrap()]);
}

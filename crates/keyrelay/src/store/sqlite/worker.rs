//! The thread that owns the SQLite connection. SQLite calls block, so they run
//! here, never on an async worker; the async side talks to it by channel.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keypool::{KeyHealth, KeyRecord, OutcomeClass, Span, UsageBucket};
use rusqlite::{params, Connection, Row, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::schema;
use crate::store::backend::{class_from_str, KeyDelta};
use crate::store::error::BackendError;

pub(super) type Reply<T> = oneshot::Sender<Result<T, BackendError>>;

/// A request to the SQLite thread. Each carries the wall time (Unix ms) it
/// was sent at, read on the async side from a [`keypool::Clock`]: this thread
/// is outside the tokio runtime, where a `Clock` would silently follow the
/// system's clock instead of tokio's (paused and advanced in tests).
pub(super) enum Command {
    Load {
        pool: String,
        now_ms: u64,
        reply: Reply<Vec<KeyRecord>>,
    },
    Apply {
        deltas: Vec<KeyDelta>,
        now_ms: u64,
        reply: Reply<()>,
    },
    /// Work of another part of the store (virtual keys and spend), run on
    /// the connection as [`with_conn`] lends it; it sends its own reply.
    Run(Job),
}

/// A call run on this thread: given the connection slot, the file and the
/// busy timeout, it opens the connection if need be ([`with_conn`]) and
/// sends its result itself.
pub(super) type Job = Box<dyn FnOnce(&mut Option<Connection>, &Path, Duration) + Send>;

/// Serves commands until every sender is gone. The connection opens lazily
/// and reopens after any failure but contention, so a file that was locked,
/// missing or replaced is picked up again without a restart.
pub(super) fn run(path: PathBuf, busy_timeout: Duration, mut commands: mpsc::Receiver<Command>) {
    let mut conn: Option<Connection> = None;
    while let Some(command) = commands.blocking_recv() {
        match command {
            Command::Load {
                pool,
                now_ms,
                reply,
            } => {
                let result = with_conn(&mut conn, &path, busy_timeout, |c| load(c, &pool, now_ms));
                let _ = reply.send(result);
            }
            Command::Apply {
                deltas,
                now_ms,
                reply,
            } => {
                let result = with_conn(&mut conn, &path, busy_timeout, |c| {
                    apply(c, &deltas, now_ms)
                });
                let _ = reply.send(result);
            }
            Command::Run(job) => job(&mut conn, &path, busy_timeout),
        }
    }
}

pub(super) fn with_conn<T>(
    slot: &mut Option<Connection>,
    path: &Path,
    busy_timeout: Duration,
    f: impl FnOnce(&mut Connection) -> Result<T, BackendError>,
) -> Result<T, BackendError> {
    let mut conn = match slot.take() {
        Some(conn) => conn,
        None => open(path, busy_timeout)?,
    };
    let result = f(&mut conn);
    if result.as_ref().is_ok() || result.as_ref().is_err_and(BackendError::is_busy) {
        *slot = Some(conn);
    }
    result
}

fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, BackendError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| BackendError::Directory {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(busy_timeout)?;
    enter_wal(&conn, busy_timeout)?;
    // With WAL, NORMAL never corrupts; a power loss may drop the last commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    schema::migrate(&mut conn)?;
    Ok(conn)
}

/// Pause between two tries of the switch to WAL while another connection holds the lock.
const WAL_RETRY_PAUSE: Duration = Duration::from_millis(5);

/// Puts the file in WAL mode: readers never wait for a writer, and processes
/// share one file safely. This is also the first read of the file, so a
/// corrupt one fails here.
///
/// A file not yet in WAL mode (a new one) is switched under a read lock that
/// is then upgraded to a write lock. When several connections do that at
/// once (processes starting together on a new file), SQLite fails the losers
/// with "database is locked" at once, without waiting `busy_timeout`, since
/// waiting while holding a read lock could deadlock. That contention lasts
/// only as long as the winner's switch, so it is retried here, for at most
/// `busy_timeout`, like any other wait for a lock.
fn enter_wal(conn: &Connection, busy_timeout: Duration) -> Result<(), BackendError> {
    let deadline = Instant::now() + busy_timeout;
    loop {
        let switched = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(BackendError::from);
        match switched {
            Err(err) if err.is_busy() && Instant::now() < deadline => {
                std::thread::sleep(WAL_RETRY_PAUSE);
            }
            other => return other.map(drop),
        }
    }
}

const SELECT: &str = "SELECT key_id, cooling_until_ms, cooling_class, disabled_at_ms,
    disabled_reason, reinstated_at_ms, requests, success, client_error, key_invalid,
    key_no_credit, quota_daily, rate_limited, transient, provider_down, last_class,
    last_reason, last_used_ms FROM key_state WHERE pool = ?1";

const SELECT_MODEL_COOLDOWNS: &str = "SELECT key_id, model, until_ms, class
    FROM key_model_cooldown WHERE pool = ?1";

/// Every record of `pool`, without usage buckets that no longer count at `now_ms`.
fn load(conn: &mut Connection, pool: &str, now_ms: u64) -> Result<Vec<KeyRecord>, BackendError> {
    let mut statement = conn.prepare_cached(SELECT)?;
    let rows = statement.query_map([pool], read_record)?;
    let mut records: Vec<KeyRecord> = rows.collect::<Result<_, _>>()?;
    let mut statement = conn.prepare_cached(SELECT_MODEL_COOLDOWNS)?;
    let rows = statement.query_map([pool], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
            row.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (id, model, until_ms, class) = row?;
        let Some(class) = class_from_str(&class) else {
            continue;
        };
        let index = match records.iter().position(|r| r.id == id) {
            Some(index) => index,
            None => {
                records.push(KeyRecord {
                    id,
                    ..KeyRecord::default()
                });
                records.len() - 1
            }
        };
        records[index]
            .health
            .cool_model_until(&model, until_ms, class);
    }
    let mut statement = conn.prepare_cached(SELECT_USAGE)?;
    let rows = statement.query_map([pool], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (id, span, bucket, requests, tokens) = row?;
        let Some(span) = Span::parse(&span) else {
            continue;
        };
        let bucket = UsageBucket {
            span,
            index: u64::try_from(bucket).unwrap_or(0),
            requests: u64::try_from(requests).unwrap_or(0),
            tokens: u64::try_from(tokens).unwrap_or(0),
        };
        if !bucket.counts_at(now_ms) {
            continue;
        }
        match records.iter_mut().find(|r| r.id == id) {
            Some(record) => record.usage.push(bucket),
            None => records.push(KeyRecord {
                id,
                usage: vec![bucket],
                ..KeyRecord::default()
            }),
        }
    }
    Ok(records)
}

const SELECT_USAGE: &str = "SELECT key_id, span, bucket, requests, tokens
    FROM key_usage WHERE pool = ?1";

/// Usage buckets add, like every counter.
const UPSERT_USAGE: &str = "INSERT INTO key_usage
    (pool, key_id, span, bucket, requests, tokens, ends_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (pool, key_id, span, bucket) DO UPDATE SET
    requests = requests + excluded.requests,
    tokens = tokens + excluded.tokens";

const SWEEP_USAGE: &str = "DELETE FROM key_usage WHERE ends_ms <= ?1";

fn read_record(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    let ms = |i: usize| row.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
    let class = |i: usize| {
        row.get::<_, Option<String>>(i)
            .map(|v| v.as_deref().and_then(class_from_str))
    };
    let mut record = KeyRecord {
        id: row.get(0)?,
        health: KeyHealth {
            cooling_until_ms: ms(1)?,
            cooling_class: class(2)?,
            disabled_at_ms: ms(3)?,
            disabled_reason: row.get(4)?,
            reinstated_at_ms: ms(5)?,
            ..KeyHealth::default()
        },
        requests: ms(6)?,
        last_class: class(15)?,
        last_reason: row.get(16)?,
        last_used_ms: ms(17)?,
        ..KeyRecord::default()
    };
    // Counter columns follow OutcomeClass::ALL's order (see the schema).
    for (i, class) in OutcomeClass::ALL.into_iter().enumerate() {
        record.outcomes.add(class, ms(7 + i)?);
    }
    Ok(record)
}

/// The merge happens in SQL, so writers in other processes never lose an
/// update. The rules are [`keypool::KeyRecord::absorb`]'s: the later deadline
/// and the latest disable/reinstate win, counters add, the latest attempt sets
/// the last class, reason and time. In `DO UPDATE`, bare column names are the
/// stored row's values (all of them from before this update).
const UPSERT: &str = "INSERT INTO key_state (pool, key_id, cooling_until_ms, cooling_class,
    disabled_at_ms, disabled_reason, reinstated_at_ms, requests, success, client_error,
    key_invalid, key_no_credit, quota_daily, rate_limited, transient, provider_down,
    last_class, last_reason, last_used_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
ON CONFLICT (pool, key_id) DO UPDATE SET
    cooling_class = CASE WHEN excluded.cooling_until_ms > cooling_until_ms
        THEN excluded.cooling_class ELSE cooling_class END,
    cooling_until_ms = MAX(cooling_until_ms, excluded.cooling_until_ms),
    disabled_reason = CASE WHEN excluded.disabled_at_ms > disabled_at_ms
        THEN excluded.disabled_reason ELSE disabled_reason END,
    disabled_at_ms = MAX(disabled_at_ms, excluded.disabled_at_ms),
    reinstated_at_ms = MAX(reinstated_at_ms, excluded.reinstated_at_ms),
    requests = requests + excluded.requests,
    success = success + excluded.success,
    client_error = client_error + excluded.client_error,
    key_invalid = key_invalid + excluded.key_invalid,
    key_no_credit = key_no_credit + excluded.key_no_credit,
    quota_daily = quota_daily + excluded.quota_daily,
    rate_limited = rate_limited + excluded.rate_limited,
    transient = transient + excluded.transient,
    provider_down = provider_down + excluded.provider_down,
    last_class = CASE WHEN excluded.requests > 0 AND excluded.last_used_ms >= last_used_ms
        THEN excluded.last_class ELSE last_class END,
    last_reason = CASE WHEN excluded.requests > 0 AND excluded.last_used_ms >= last_used_ms
        THEN excluded.last_reason ELSE last_reason END,
    last_used_ms = CASE WHEN excluded.requests > 0 AND excluded.last_used_ms >= last_used_ms
        THEN excluded.last_used_ms ELSE last_used_ms END";

/// A model's cooldown merges like the key's: the later deadline wins.
const UPSERT_MODEL_COOLDOWN: &str = "INSERT INTO key_model_cooldown
    (pool, key_id, model, until_ms, class) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (pool, key_id, model) DO UPDATE SET
    class = CASE WHEN excluded.until_ms > until_ms THEN excluded.class ELSE class END,
    until_ms = MAX(until_ms, excluded.until_ms)";

/// Model cooldowns that have ended are dropped on each write.
const SWEEP_MODEL_COOLDOWNS: &str = "DELETE FROM key_model_cooldown WHERE until_ms <= ?1";

/// Merges `deltas` in one transaction, which also drops the model cooldowns
/// and usage buckets that ended by `now_ms`.
fn apply(conn: &mut Connection, deltas: &[KeyDelta], now_ms: u64) -> Result<(), BackendError> {
    if deltas.is_empty() {
        // A health check: reading the table proves the file is open and sound.
        conn.query_row("SELECT count(*) FROM key_state", [], |row| {
            row.get::<_, i64>(0)
        })?;
        return Ok(());
    }
    // IMMEDIATE takes the write lock up front, so a busy file fails here
    // (and waits busy_timeout) rather than half-way through the batch.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut upsert = tx.prepare_cached(UPSERT)?;
        for KeyDelta { pool, record: d } in deltas {
            let h = &d.health;
            let n = |class: OutcomeClass| sql_int(d.outcomes.get(class));
            upsert.execute(params![
                pool,
                d.id,
                sql_int(h.cooling_until_ms),
                h.cooling_class.map(OutcomeClass::as_str),
                sql_int(h.disabled_at_ms),
                h.disabled_reason,
                sql_int(h.reinstated_at_ms),
                sql_int(d.requests),
                n(OutcomeClass::Success),
                n(OutcomeClass::ClientError),
                n(OutcomeClass::KeyInvalid),
                n(OutcomeClass::KeyNoCredit),
                n(OutcomeClass::QuotaDaily),
                n(OutcomeClass::RateLimited),
                n(OutcomeClass::Transient),
                n(OutcomeClass::ProviderDown),
                d.last_class.map(OutcomeClass::as_str),
                d.last_reason,
                sql_int(d.last_used_ms),
            ])?;
            for bucket in &d.usage {
                tx.prepare_cached(UPSERT_USAGE)?.execute(params![
                    pool,
                    d.id,
                    bucket.span.as_str(),
                    sql_int(bucket.index),
                    sql_int(bucket.requests),
                    sql_int(bucket.tokens),
                    sql_int(bucket.leaves_window_at()),
                ])?;
            }
            for cooldown in &h.scoped {
                tx.prepare_cached(UPSERT_MODEL_COOLDOWN)?.execute(params![
                    pool,
                    d.id,
                    cooldown.model,
                    sql_int(cooldown.until_ms),
                    cooldown.class.as_str(),
                ])?;
            }
        }
        if deltas.iter().any(|d| !d.record.health.scoped.is_empty()) {
            tx.prepare_cached(SWEEP_MODEL_COOLDOWNS)?
                .execute([sql_int(now_ms)])?;
        }
        if deltas.iter().any(|d| !d.record.usage.is_empty()) {
            tx.prepare_cached(SWEEP_USAGE)?.execute([sql_int(now_ms)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// SQLite integers are signed 64-bit; Unix ms and counters fit with room to spare.
pub(super) fn sql_int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

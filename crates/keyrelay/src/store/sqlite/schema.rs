//! The SQLite schema and its migrations, versioned by `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::error::BackendError;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// a released migration never changes, so every file can be brought forward.
const MIGRATIONS: &[&str] = &[
    // 1: one row per (pool, key fingerprint id). No key material: `key_id` is
    // the fingerprint id (12 hex of a SHA-256). Times are Unix ms, 0 = never.
    "CREATE TABLE key_state (
        pool             TEXT    NOT NULL,
        key_id           TEXT    NOT NULL,
        cooling_until_ms INTEGER NOT NULL DEFAULT 0,
        cooling_class    TEXT,
        disabled_at_ms   INTEGER NOT NULL DEFAULT 0,
        disabled_reason  TEXT,
        reinstated_at_ms INTEGER NOT NULL DEFAULT 0,
        requests         INTEGER NOT NULL DEFAULT 0,
        success          INTEGER NOT NULL DEFAULT 0,
        client_error     INTEGER NOT NULL DEFAULT 0,
        key_invalid      INTEGER NOT NULL DEFAULT 0,
        key_no_credit    INTEGER NOT NULL DEFAULT 0,
        quota_daily      INTEGER NOT NULL DEFAULT 0,
        rate_limited     INTEGER NOT NULL DEFAULT 0,
        transient        INTEGER NOT NULL DEFAULT 0,
        provider_down    INTEGER NOT NULL DEFAULT 0,
        last_class       TEXT,
        last_reason      TEXT,
        last_used_ms     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (pool, key_id)
    ) WITHOUT ROWID;",
    // 2: cooldowns that hold for one model of a key (a per-model quota).
    // Rows whose `until_ms` has passed mean nothing and are swept on write.
    "CREATE TABLE key_model_cooldown (
        pool     TEXT    NOT NULL,
        key_id   TEXT    NOT NULL,
        model    TEXT    NOT NULL,
        until_ms INTEGER NOT NULL,
        class    TEXT    NOT NULL,
        PRIMARY KEY (pool, key_id, model)
    ) WITHOUT ROWID;",
    // 3: requests and tokens per time bucket, for client-side budgets
    // (`span` is `10s` or `1h`; `bucket` is Unix ms / the span's width).
    // Counters that add; rows out of every window are swept on write.
    "CREATE TABLE key_usage (
        pool     TEXT    NOT NULL,
        key_id   TEXT    NOT NULL,
        span     TEXT    NOT NULL,
        bucket   INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        tokens   INTEGER NOT NULL DEFAULT 0,
        ends_ms  INTEGER NOT NULL,
        PRIMARY KEY (pool, key_id, span, bucket)
    ) WITHOUT ROWID;",
    // 4: a team's gateway. Virtual keys by the SHA-256 of their secret (never
    // the secret; `routes` is a JSON array of globs, budgets in nano-USD),
    // a version bumped by every change to them, spend per UTC day and
    // dimension (counters that add), and short-lived named counters for
    // budgets and rate limits (swept once expired).
    "CREATE TABLE virtual_key (
        id                 TEXT    NOT NULL PRIMARY KEY,
        hash               TEXT    NOT NULL UNIQUE,
        name               TEXT    NOT NULL UNIQUE,
        team               TEXT,
        routes             TEXT    NOT NULL,
        rpm                INTEGER,
        tpm                INTEGER,
        budget_day_nanos   INTEGER,
        budget_week_nanos  INTEGER,
        budget_month_nanos INTEGER,
        expires_at_ms      INTEGER,
        disabled_at_ms     INTEGER,
        created_at_ms      INTEGER NOT NULL,
        updated_at_ms      INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE virtual_key_version (
        id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
    );
    INSERT INTO virtual_key_version (id, version) VALUES (1, 0);
    CREATE TABLE spend (
        day                TEXT    NOT NULL,
        dimension          TEXT    NOT NULL,
        name               TEXT    NOT NULL,
        requests           INTEGER NOT NULL DEFAULT 0,
        input_tokens       INTEGER NOT NULL DEFAULT 0,
        output_tokens      INTEGER NOT NULL DEFAULT 0,
        cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
        cache_write_tokens INTEGER NOT NULL DEFAULT 0,
        usd_nanos          INTEGER NOT NULL DEFAULT 0,
        unpriced_requests  INTEGER NOT NULL DEFAULT 0,
        estimated_requests INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, dimension, name)
    ) WITHOUT ROWID;
    CREATE TABLE spend_counter (
        name       TEXT    NOT NULL PRIMARY KEY,
        value      INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
    ) WITHOUT ROWID;",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the file to [`SCHEMA_VERSION`]. Several processes may start at once:
/// the version is read again under the write lock, so each migration runs once.
/// A file from a newer keyrelay is left alone.
pub fn migrate(conn: &mut Connection) -> Result<(), BackendError> {
    if user_version(conn)? == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(BackendError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    let start = usize::try_from(found).unwrap_or(0);
    for sql in MIGRATIONS.iter().skip(start) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn user_version(conn: &Connection) -> Result<i64, BackendError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

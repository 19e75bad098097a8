//! Virtual keys and spend in the SQLite file (schema 4). Each call is one
//! transaction on the store's thread; spend and counters add in SQL, so
//! every process's increments count.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::worker::sql_int;
use super::SqliteStore;
use crate::store::error::BackendError;
use crate::store::team::{
    Dimension, SpendBatch, SpendCounts, SpendRow, TeamError, TeamFuture, TeamStore, UsdBudget,
    VirtualKey,
};

const COLUMNS: &str = "id, hash, name, team, routes, rpm, tpm, budget_day_nanos,
    budget_week_nanos, budget_month_nanos, expires_at_ms, disabled_at_ms, created_at_ms,
    updated_at_ms";

const BUMP_VERSION: &str = "UPDATE virtual_key_version SET version = version + 1 WHERE id = 1";

/// What a key change found.
enum Changed {
    Done,
    NameTaken,
    NotFound,
}

impl Changed {
    fn into_result(self, key: &str, name: &str) -> Result<(), TeamError> {
        match self {
            Changed::Done => Ok(()),
            Changed::NameTaken => Err(TeamError::NameTaken(name.to_owned())),
            Changed::NotFound => Err(TeamError::NotFound(key.to_owned())),
        }
    }
}

fn read_key(row: &Row<'_>) -> rusqlite::Result<VirtualKey> {
    let number = |i: usize| {
        row.get::<_, Option<i64>>(i)
            .map(|v| v.and_then(|v| u64::try_from(v).ok()))
    };
    let routes: String = row.get(4)?;
    Ok(VirtualKey {
        id: row.get(0)?,
        hash: row.get(1)?,
        name: row.get(2)?,
        team: row.get(3)?,
        routes: serde_json::from_str(&routes).unwrap_or_default(),
        rpm: number(5)?,
        tpm: number(6)?,
        budget: UsdBudget {
            day: number(7)?,
            week: number(8)?,
            month: number(9)?,
        },
        expires_at_ms: number(10)?,
        disabled_at_ms: number(11)?,
        created_at_ms: number(12)?.unwrap_or(0),
        updated_at_ms: number(13)?.unwrap_or(0),
    })
}

fn opt(value: Option<u64>) -> Option<i64> {
    value.map(sql_int)
}

fn is_unique_violation(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation)
    )
}

/// Inserts or (`replace`) updates `key` and bumps the version, in one transaction.
fn write_key(
    conn: &mut Connection,
    key: &VirtualKey,
    replace: bool,
) -> Result<Changed, BackendError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let exists: bool = tx
        .query_row("SELECT 1 FROM virtual_key WHERE id = ?1", [&key.id], |_| {
            Ok(())
        })
        .optional()?
        .is_some();
    if replace && !exists {
        return Ok(Changed::NotFound);
    }
    let taken: bool = tx
        .query_row(
            "SELECT 1 FROM virtual_key WHERE name = ?1 AND id != ?2",
            [&key.name, &key.id],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if taken || (!replace && exists) {
        return Ok(Changed::NameTaken);
    }
    let routes = serde_json::to_string(&key.routes).unwrap_or_else(|_| "[]".into());
    let written = tx.execute(
        &format!(
            "INSERT OR REPLACE INTO virtual_key ({COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ),
        params![
            key.id,
            key.hash,
            key.name,
            key.team,
            routes,
            opt(key.rpm),
            opt(key.tpm),
            opt(key.budget.day),
            opt(key.budget.week),
            opt(key.budget.month),
            opt(key.expires_at_ms),
            opt(key.disabled_at_ms),
            sql_int(key.created_at_ms),
            sql_int(key.updated_at_ms),
        ],
    );
    match written {
        Err(err) if is_unique_violation(&err) => return Ok(Changed::NameTaken),
        other => other?,
    };
    tx.execute(BUMP_VERSION, [])?;
    tx.commit()?;
    Ok(Changed::Done)
}

fn delete_key(conn: &mut Connection, id: &str) -> Result<Changed, BackendError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if tx.execute("DELETE FROM virtual_key WHERE id = ?1", [id])? == 0 {
        return Ok(Changed::NotFound);
    }
    tx.execute(BUMP_VERSION, [])?;
    tx.commit()?;
    Ok(Changed::Done)
}

const UPSERT_SPEND: &str = "INSERT INTO spend (day, dimension, name, requests, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, usd_nanos, unpriced_requests,
    estimated_requests) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (day, dimension, name) DO UPDATE SET
    requests = requests + excluded.requests,
    input_tokens = input_tokens + excluded.input_tokens,
    output_tokens = output_tokens + excluded.output_tokens,
    cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
    usd_nanos = usd_nanos + excluded.usd_nanos,
    unpriced_requests = unpriced_requests + excluded.unpriced_requests,
    estimated_requests = estimated_requests + excluded.estimated_requests";

/// A counter that expired restarts from the increment.
const UPSERT_COUNTER: &str = "INSERT INTO spend_counter (name, value, expires_ms)
    VALUES (?1, ?2, ?3)
ON CONFLICT (name) DO UPDATE SET
    value = CASE WHEN expires_ms <= ?4 THEN excluded.value ELSE value + excluded.value END,
    expires_ms = MAX(expires_ms, excluded.expires_ms)";

fn add_spend(conn: &mut Connection, batch: &SpendBatch, now_ms: u64) -> Result<(), BackendError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut upsert = tx.prepare_cached(UPSERT_SPEND)?;
        for row in &batch.rows {
            let v = row.counts.values().map(sql_int);
            upsert.execute(params![
                row.day,
                row.dimension.as_str(),
                row.name,
                v[0],
                v[1],
                v[2],
                v[3],
                v[4],
                v[5],
                v[6],
                v[7]
            ])?;
        }
        let mut counter = tx.prepare_cached(UPSERT_COUNTER)?;
        for add in &batch.counters {
            counter.execute(params![
                add.name,
                sql_int(add.add),
                sql_int(add.expires_at_ms),
                sql_int(now_ms)
            ])?;
        }
        if !batch.counters.is_empty() {
            tx.prepare_cached("DELETE FROM spend_counter WHERE expires_ms <= ?1")?
                .execute([sql_int(now_ms)])?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn counters(
    conn: &mut Connection,
    names: &[String],
    now_ms: u64,
) -> Result<Vec<u64>, BackendError> {
    let mut statement =
        conn.prepare_cached("SELECT value FROM spend_counter WHERE name = ?1 AND expires_ms > ?2")?;
    names
        .iter()
        .map(|name| {
            let value: Option<i64> = statement
                .query_row(params![name, sql_int(now_ms)], |row| row.get(0))
                .optional()?;
            Ok(value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0))
        })
        .collect()
}

fn spend(conn: &mut Connection, from: &str, to: &str) -> Result<Vec<SpendRow>, BackendError> {
    let mut statement = conn.prepare_cached(
        "SELECT day, dimension, name, requests, input_tokens, output_tokens, cache_read_tokens,
            cache_write_tokens, usd_nanos, unpriced_requests, estimated_requests
         FROM spend WHERE day >= ?1 AND day <= ?2 ORDER BY day, dimension, name",
    )?;
    let rows = statement.query_map([from, to], |row| {
        let mut values = [0u64; 8];
        for (i, value) in values.iter_mut().enumerate() {
            *value = u64::try_from(row.get::<_, i64>(3 + i)?).unwrap_or(0);
        }
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            SpendCounts::from_values(values),
        ))
    })?;
    let mut found = Vec::new();
    for row in rows {
        let (day, dimension, name, counts) = row?;
        // A dimension a newer keyrelay added is skipped, not fatal.
        if let Some(dimension) = Dimension::parse(&dimension) {
            found.push(SpendRow {
                day,
                dimension,
                name,
                counts,
            });
        }
    }
    Ok(found)
}

impl TeamStore for SqliteStore {
    fn create_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        Box::pin(async move {
            let owned = key.clone();
            let changed = self.run(move |c, _| write_key(c, &owned, false)).await?;
            changed.into_result(&key.id, &key.name)
        })
    }

    fn replace_key<'a>(&'a self, key: &'a VirtualKey) -> TeamFuture<'a, ()> {
        Box::pin(async move {
            let owned = key.clone();
            let changed = self.run(move |c, _| write_key(c, &owned, true)).await?;
            changed.into_result(&key.id, &key.name)
        })
    }

    fn delete_key<'a>(&'a self, id: &'a str) -> TeamFuture<'a, ()> {
        Box::pin(async move {
            let owned = id.to_owned();
            let changed = self.run(move |c, _| delete_key(c, &owned)).await?;
            changed.into_result(id, "")
        })
    }

    fn keys(&self) -> TeamFuture<'_, Vec<VirtualKey>> {
        Box::pin(async move {
            let keys = self
                .run(|c, _| {
                    let mut statement = c.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM virtual_key ORDER BY created_at_ms, id"
                    ))?;
                    let keys = statement.query_map([], read_key)?;
                    Ok(keys.collect::<Result<Vec<_>, _>>()?)
                })
                .await?;
            Ok(keys)
        })
    }

    fn key_by_hash<'a>(&'a self, hash: &'a str) -> TeamFuture<'a, Option<VirtualKey>> {
        Box::pin(async move {
            let hash = hash.to_owned();
            let key = self
                .run(move |c, _| {
                    let mut statement = c.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM virtual_key WHERE hash = ?1"
                    ))?;
                    Ok(statement.query_row([hash], read_key).optional()?)
                })
                .await?;
            Ok(key)
        })
    }

    fn keys_version(&self) -> TeamFuture<'_, u64> {
        Box::pin(async move {
            let version = self
                .run(|c, _| {
                    let version: i64 = c.query_row(
                        "SELECT version FROM virtual_key_version WHERE id = 1",
                        [],
                        |row| row.get(0),
                    )?;
                    Ok(u64::try_from(version).unwrap_or(0))
                })
                .await?;
            Ok(version)
        })
    }

    fn add_spend<'a>(&'a self, batch: &'a SpendBatch) -> TeamFuture<'a, ()> {
        Box::pin(async move {
            let owned = batch.clone();
            self.run(move |c, now_ms| add_spend(c, &owned, now_ms))
                .await?;
            Ok(())
        })
    }

    fn counters<'a>(&'a self, names: &'a [String], now_ms: u64) -> TeamFuture<'a, Vec<u64>> {
        Box::pin(async move {
            let owned = names.to_vec();
            Ok(self.run(move |c, _| counters(c, &owned, now_ms)).await?)
        })
    }

    fn spend<'a>(&'a self, from: &'a str, to: &'a str) -> TeamFuture<'a, Vec<SpendRow>> {
        Box::pin(async move {
            let (from, to) = (from.to_owned(), to.to_owned());
            Ok(self.run(move |c, _| spend(c, &from, &to)).await?)
        })
    }
}

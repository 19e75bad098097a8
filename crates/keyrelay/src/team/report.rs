//! Spend reports: the store's daily rows of one dimension (virtual key,
//! team, model, provider or provider key) summed over a range of UTC days,
//! as JSON, CSV or a table. `GET /admin/spend` and `keyrelay spend` print
//! the same report.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::book::{spend_usd, usd};
use super::windows::day_label;
use crate::store::team::{days_between, Dimension, SpendCounts, TeamError, TeamStore, MAX_DAYS};

/// A report's question: which dimension, which days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub by: Dimension,
    pub from: String,
    pub to: String,
}

/// A query that does not hold, by parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    pub field: &'static str,
    pub message: String,
}

impl Query {
    /// `by` (default `key`), `from` and `to` (`YYYY-MM-DD`, UTC; default
    /// today for both, `from` alone runs to today).
    pub fn parse(
        by: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now_ms: u64,
    ) -> Result<Query, QueryError> {
        let by = match by {
            None => Dimension::Key,
            Some(text) => Dimension::parse(text).ok_or_else(|| QueryError {
                field: "by",
                message: "must be key, team, model, provider or provider_key".into(),
            })?,
        };
        let today = day_label(now_ms);
        let day = |field: &'static str, text: Option<&str>| -> Result<String, QueryError> {
            let Some(text) = text else {
                return Ok(today.clone());
            };
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.format("%Y-%m-%d").to_string())
                .map_err(|_| QueryError {
                    field,
                    message: "must be a UTC day as YYYY-MM-DD".into(),
                })
        };
        let (from, to) = (day("from", from)?, day("to", to)?);
        if from > to {
            return Err(QueryError {
                field: "from",
                message: format!("{from} is after to ({to})"),
            });
        }
        if days_between(&from, &to).len() >= MAX_DAYS {
            return Err(QueryError {
                field: "to",
                message: format!("a report covers at most {} days", MAX_DAYS - 1),
            });
        }
        Ok(Query { by, from, to })
    }
}

/// One row: a name and its spend over the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The key's id for `by=key`, else the dimension's name.
    pub name: String,
    /// For `by=key`: the key's name and team (`None` once deleted).
    pub key_name: Option<String>,
    pub team: Option<String>,
    pub counts: SpendCounts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub query: Query,
    pub lines: Vec<Line>,
}

/// Reads and sums the store's rows for `query`, most spent first.
pub async fn build(store: &dyn TeamStore, query: Query) -> Result<Report, TeamError> {
    let mut sums: BTreeMap<String, SpendCounts> = BTreeMap::new();
    for row in store.spend(&query.from, &query.to).await? {
        if row.dimension == query.by {
            sums.entry(row.name).or_default().add(&row.counts);
        }
    }
    let keys = if query.by == Dimension::Key {
        store.keys().await?
    } else {
        Vec::new()
    };
    let mut lines: Vec<Line> = sums
        .into_iter()
        .map(|(name, counts)| {
            let key = keys.iter().find(|k| k.id == name);
            Line {
                key_name: key.map(|k| k.name.clone()),
                team: key.and_then(|k| k.team.clone()),
                name,
                counts,
            }
        })
        .collect();
    lines.sort_by(|a, b| {
        b.counts
            .usd_nanos
            .cmp(&a.counts.usd_nanos)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Report { query, lines })
}

/// The CSV columns, after the name (and, by key, its name and team).
const COLUMNS: [&str; 9] = [
    "usd",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "tokens",
    "unpriced_requests",
    "estimated_requests",
];

impl Report {
    pub fn to_json(&self) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|line| {
                let c = &line.counts;
                let mut row = json!({
                    self.query.by.as_str(): line.name,
                    "usd": spend_usd(c),
                    "requests": c.requests,
                    "input_tokens": c.input_tokens,
                    "output_tokens": c.output_tokens,
                    "cache_read_tokens": c.cache_read_tokens,
                    "cache_write_tokens": c.cache_write_tokens,
                    "tokens": c.tokens(),
                    "unpriced_requests": c.unpriced_requests,
                    "estimated_requests": c.estimated_requests,
                });
                if self.query.by == Dimension::Key {
                    row["name"] = json!(line.key_name);
                    row["team"] = json!(line.team);
                }
                row
            })
            .collect();
        let total = self.total();
        json!({
            "by": self.query.by.as_str(),
            "from": self.query.from,
            "to": self.query.to,
            "rows": lines,
            "total": {
                "usd": spend_usd(&total),
                "requests": total.requests,
                "tokens": total.tokens(),
                "unpriced_requests": total.unpriced_requests,
                "estimated_requests": total.estimated_requests,
            },
        })
    }

    pub fn total(&self) -> SpendCounts {
        let mut total = SpendCounts::default();
        for line in &self.lines {
            total.add(&line.counts);
        }
        total
    }

    /// RFC 4180 CSV with a header; unknown spend is an empty `usd` cell.
    pub fn to_csv(&self) -> String {
        let by = self.query.by;
        let mut header = vec![by.as_str()];
        if by == Dimension::Key {
            header.extend(["name", "team"]);
        }
        header.extend(COLUMNS);
        let mut out = header.join(",");
        out.push_str("\r\n");
        for line in &self.lines {
            let mut cells = vec![csv_cell(&line.name)];
            if by == Dimension::Key {
                cells.push(csv_cell(line.key_name.as_deref().unwrap_or("")));
                cells.push(csv_cell(line.team.as_deref().unwrap_or("")));
            }
            cells.extend(numbers(&line.counts));
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// Rows for a terminal table: the name (and key name), then the figures.
    pub fn table_rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let by = self.query.by;
        let mut header = vec![match by {
            Dimension::Key => "KEY ID",
            Dimension::Team => "TEAM",
            Dimension::Model => "MODEL",
            Dimension::Provider => "PROVIDER",
            Dimension::ProviderKey => "PROVIDER KEY",
        }];
        if by == Dimension::Key {
            header.extend(["NAME", "TEAM"]);
        }
        header.extend([
            "USD",
            "REQUESTS",
            "INPUT",
            "OUTPUT",
            "CACHE READ",
            "CACHE WRITE",
            "UNPRICED",
            "ESTIMATED",
        ]);
        let rows = self
            .lines
            .iter()
            .map(|line| {
                let c = &line.counts;
                let mut row = vec![line.name.clone()];
                if by == Dimension::Key {
                    row.push(line.key_name.clone().unwrap_or_else(|| "(deleted)".into()));
                    row.push(line.team.clone().unwrap_or_else(|| "—".into()));
                }
                row.extend([
                    usd_text(c),
                    c.requests.to_string(),
                    c.input_tokens.to_string(),
                    c.output_tokens.to_string(),
                    c.cache_read_tokens.to_string(),
                    c.cache_write_tokens.to_string(),
                    c.unpriced_requests.to_string(),
                    c.estimated_requests.to_string(),
                ]);
                row
            })
            .collect();
        (header, rows)
    }
}

/// `0.012345`, `unknown`, or `0.01 + unknown` when some requests were unpriced.
pub fn usd_text(counts: &SpendCounts) -> String {
    match spend_usd(counts) {
        Value::Null => "unknown".into(),
        _ if counts.unpriced_requests > 0 => format!("{:.6} + unknown", usd(counts.usd_nanos)),
        _ => format!("{:.6}", usd(counts.usd_nanos)),
    }
}

fn numbers(c: &SpendCounts) -> Vec<String> {
    let usd = match spend_usd(c) {
        Value::Null => String::new(),
        _ => format!("{:.9}", usd(c.usd_nanos)),
    };
    vec![
        usd,
        c.requests.to_string(),
        c.input_tokens.to_string(),
        c.output_tokens.to_string(),
        c.cache_read_tokens.to_string(),
        c.cache_write_tokens.to_string(),
        c.tokens().to_string(),
        c.unpriced_requests.to_string(),
        c.estimated_requests.to_string(),
    ]
}

/// A CSV cell: quoted when it holds a comma, quote or line break, and
/// never read as a formula by a spreadsheet (a leading `=`, `+`, `-`, `@`).
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests;

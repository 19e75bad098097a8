//! Rows of one load measured in turns: round after round every row runs
//! once, and each row's CPU per request is the median of its rounds, so a
//! noisy moment hurts one round of each row rather than one row. The first
//! row is the one the others are set against.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::load::{Load, Report};

/// The keyrelay measured, and an earlier build to compare with.
pub struct Builds {
    pub keyrelay: PathBuf,
    pub baseline: Option<PathBuf>,
}

/// One row: a keyrelay process and what its requests carry.
pub struct Row {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub pid: u32,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// How long, how often and how wide the rows are measured.
pub struct Rounds<'a> {
    pub seconds: Duration,
    pub concurrencies: &'a [usize],
    pub rounds: usize,
}

/// Measures `rows` with an Anthropic `/v1/messages` request and prints a
/// table whose first column is headed `what`, each row's CPU per request
/// as a ratio to the first row's (`ratio_to`).
pub fn measure(
    runtime: &tokio::runtime::Runtime,
    rows: &[Row],
    rounds: &Rounds<'_>,
    what: &str,
    ratio_to: &str,
) -> anyhow::Result<()> {
    let n = rounds.rounds;
    println!(
        "| {what} | c | req/s | p50 | CPU/req of keyrelay (median of {n}) | ratio to {ratio_to} |"
    );
    println!("|---|---|---|---|---|---|");
    for &concurrency in rounds.concurrencies {
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut reports: Vec<Vec<Report>> = vec![Vec::new(); rows.len()];
        for _ in 0..n {
            for (at, row) in rows.iter().enumerate() {
                let load = Load {
                    addr: row.addr,
                    path: "/v1/messages".to_owned(),
                    body: crate::messages_body("claude-sonnet-4-5", false),
                    headers: row.headers.clone(),
                    concurrency,
                    warmup: Duration::from_millis(300),
                    duration: rounds.seconds,
                    unique_ids: false,
                    attempts: Some("1"),
                };
                let (report, seconds) = runtime.block_on(crate::measure(&load, Some(row.pid)));
                anyhow::ensure!(
                    report.errors == 0,
                    "{} errors on the {} row",
                    report.errors,
                    row.name
                );
                if let Some(seconds) = seconds.filter(|_| report.requests > 0) {
                    cpu[at].push(seconds * 1e6 / report.requests as f64);
                }
                reports[at].push(report);
            }
        }
        let medians: Vec<f64> = cpu.iter_mut().map(|c| median(c)).collect();
        for (at, row) in rows.iter().enumerate() {
            let per_second =
                median(&mut reports[at].iter().map(|r| r.per_second).collect::<Vec<_>>());
            let p50 = median(&mut reports[at].iter().map(|r| r.total.p50).collect::<Vec<_>>());
            println!(
                "| {} | {concurrency} | {:.1}k | {p50:.0} µs | {:.1} µs | {:.3} |",
                row.name,
                per_second / 1000.0,
                medians[at],
                medians[at] / medians[0]
            );
        }
    }
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

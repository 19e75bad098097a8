//! Rows of one load measured in turns: round after round every row runs
//! once, and each row's CPU per request is the median of its rounds, so a
//! noisy moment hurts one round of each row rather than one row. The first
//! row is the one the others are set against.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::load::{Load, Report};

/// The flags of a measurement in rounds.
#[derive(Debug, clap::Args)]
pub struct RoundsArgs {
    /// The keyrelay measured.
    #[arg(long)]
    pub keyrelay: PathBuf,
    /// Measured seconds per row and round (after a short warm-up).
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub concurrency: Vec<usize>,
    /// Rounds; each row's figure is the median of its rounds.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// keyrelay's `--workers` (default: its own, one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Another keyrelay build (an earlier one) measured in the same rounds.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
}

/// One row: a keyrelay process and what its requests carry.
pub struct Row {
    pub name: &'static str,
    pub addr: SocketAddr,
    pub pid: u32,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// Measures `rows` with an Anthropic `/v1/messages` request and prints a
/// table whose first column is headed `what`, each row's CPU per request
/// as a ratio to the first row's (`ratio_to`).
pub fn measure(
    runtime: &tokio::runtime::Runtime,
    rows: &[Row],
    args: &RoundsArgs,
    what: &str,
    ratio_to: &str,
) -> anyhow::Result<()> {
    let n = args.rounds.max(1);
    let seconds = Duration::from_secs_f64(args.seconds);
    println!(
        "| {what} | c | req/s | p50 | CPU/req of keyrelay (median of {n}) | ratio to {ratio_to} |"
    );
    println!("|---|---|---|---|---|---|");
    for &concurrency in &args.concurrency {
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
                    duration: seconds,
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

//! `loadbench traces`: what OpenTelemetry tracing costs keyrelay. Each row
//! is its own keyrelay in front of one fake upstream: tracing off, tracing
//! on with every request sampled and exported (the fake upstream, which
//! answers any POST with a 200, stands in for the collector), and tracing
//! on towards a dead collector; with `--baseline`, an earlier build too.
//! The rows take turns, round after round, and each row's CPU per request
//! is the median of its rounds.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::load::{Load, Report};
use crate::procs::{free_port, wait_listening, Running};

/// Variables a row's keyrelay starts with.
type Env = Vec<(&'static str, String)>;

/// The keyrelay measured, and an earlier build to compare with.
pub struct Builds {
    pub keyrelay: PathBuf,
    pub baseline: Option<PathBuf>,
}

pub fn run(
    builds: &Builds,
    seconds: Duration,
    concurrencies: &[usize],
    rounds: usize,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let fake_addr = free_port()?;
    let _fake = Running::spawn(
        "fake upstream",
        Command::new(std::env::current_exe()?).args([
            "fake",
            "--port",
            &fake_addr.port().to_string(),
        ]),
    )?;
    wait_listening("fake upstream", fake_addr)?;
    let dead = free_port()?;
    let live_collector = format!("http://{fake_addr}");
    let dead_collector = format!("http://{dead}");
    let on = |endpoint: &str| {
        vec![
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
            ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "1000".to_owned()),
        ]
    };
    let mut configs: Vec<(&str, &PathBuf, Env)> = vec![
        ("tracing off", &builds.keyrelay, Vec::new()),
        (
            "tracing on, every request, to a collector",
            &builds.keyrelay,
            on(&live_collector),
        ),
        (
            "tracing on, every request, to a dead collector",
            &builds.keyrelay,
            on(&dead_collector),
        ),
    ];
    if let Some(baseline) = &builds.baseline {
        configs.push(("baseline build", baseline, Vec::new()));
    }
    let mut rows = Vec::new();
    for (name, path, env) in &configs {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (addr, running) = crate::start_keyrelay(path, fake_addr, workers, &env)?;
        rows.push((*name, addr, running));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("| keyrelay | c | req/s | p50 | CPU/req of keyrelay (median of {rounds}) | ratio to tracing off |");
    println!("|---|---|---|---|---|---|");
    for &concurrency in concurrencies {
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut reports: Vec<Vec<Report>> = vec![Vec::new(); rows.len()];
        for _ in 0..rounds {
            for (at, (name, addr, running)) in rows.iter().enumerate() {
                let load = Load {
                    addr: *addr,
                    path: "/v1/messages".to_owned(),
                    body: crate::messages_body("claude-sonnet-4-5", false),
                    headers: Vec::new(),
                    concurrency,
                    warmup: Duration::from_millis(300),
                    duration: seconds,
                    unique_ids: false,
                    attempts: Some("1"),
                };
                let (report, seconds) =
                    runtime.block_on(crate::measure(&load, Some(running.pid())));
                anyhow::ensure!(
                    report.errors == 0,
                    "{} errors on the {name} row",
                    report.errors
                );
                if let Some(seconds) = seconds.filter(|_| report.requests > 0) {
                    cpu[at].push(seconds * 1e6 / report.requests as f64);
                }
                reports[at].push(report);
            }
        }
        let medians: Vec<f64> = cpu.iter_mut().map(|c| median(c)).collect();
        for (at, (name, ..)) in rows.iter().enumerate() {
            let per_second =
                median(&mut reports[at].iter().map(|r| r.per_second).collect::<Vec<_>>());
            let p50 = median(&mut reports[at].iter().map(|r| r.total.p50).collect::<Vec<_>>());
            println!(
                "| {name} | {concurrency} | {:.1}k | {p50:.0} µs | {:.1} µs | {:.3} |",
                per_second / 1000.0,
                medians[at],
                medians[at] / medians[0]
            );
        }
    }
    drop(rows);
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

//! `loadbench vkeys`: what a request with a virtual key costs keyrelay
//! against one with a static access token. One keyrelay serves every row
//! (an access token, a virtual key without limits, and one with budgets
//! and rpm/tpm that its requests never come near); the rows take turns,
//! round after round, and each row's CPU per request is the median of its
//! rounds, so a noisy moment hurts one round of each row rather than one
//! row. Every request is an Anthropic passthrough of a priced model, so
//! spend is booked on every row.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};

use crate::load::{self, Load, Report};
use crate::procs::{free_port, wait_listening, Running};

const TOKEN: &str = "bench-access-token-0000000000000";
const ADMIN: &str = "bench-admin-token-00000000000000";

/// The keyrelay measured, and an earlier build to compare the access
/// token's row with.
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
    let env = [
        ("KEYRELAY_ACCESS_TOKENS", TOKEN),
        ("KEYRELAY_ADMIN_TOKENS", ADMIN),
    ];
    let (addr, running) = crate::start_keyrelay(&builds.keyrelay, fake_addr, workers, &env)?;
    let baseline = match &builds.baseline {
        Some(path) => Some(crate::start_keyrelay(path, fake_addr, workers, &env)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let plain = runtime.block_on(make_key(addr, r#"{"name":"bench-plain"}"#))?;
    let limited = runtime.block_on(make_key(
        addr,
        r#"{"name":"bench-limited","budget_usd":{"day":1000000,"month":1000000},"rpm":1000000000,"tpm":1000000000}"#,
    ))?;
    // (row, credential, address, process)
    let mut rows = vec![
        ("static access token", TOKEN.to_owned(), addr, running.pid()),
        ("virtual key", plain, addr, running.pid()),
        (
            "virtual key with budgets, rpm and tpm",
            limited,
            addr,
            running.pid(),
        ),
    ];
    if let Some((addr, process)) = &baseline {
        rows.push((
            "static access token, baseline build",
            TOKEN.to_owned(),
            *addr,
            process.pid(),
        ));
    }
    println!("| credential | c | req/s | p50 | CPU/req of keyrelay (median of {rounds}) | ratio to the access token |");
    println!("|---|---|---|---|---|---|");
    for &concurrency in concurrencies {
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut reports: Vec<Vec<Report>> = vec![Vec::new(); rows.len()];
        for _ in 0..rounds {
            for (at, (_, credential, addr, pid)) in rows.iter().enumerate() {
                let load = Load {
                    addr: *addr,
                    path: "/v1/messages".to_owned(),
                    body: crate::messages_body("claude-sonnet-4-5", false),
                    headers: vec![(
                        HeaderName::from_static("x-api-key"),
                        HeaderValue::from_str(credential)?,
                    )],
                    concurrency,
                    warmup: Duration::from_millis(300),
                    duration: seconds,
                    unique_ids: false,
                    attempts: Some("1"),
                };
                let (report, seconds) = runtime.block_on(crate::measure(&load, Some(*pid)));
                anyhow::ensure!(
                    report.errors == 0,
                    "{} errors on the {} row",
                    report.errors,
                    rows[at].0
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
    drop(running);
    drop(baseline);
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Makes a virtual key through the admin API; its secret.
async fn make_key(addr: SocketAddr, body: &'static str) -> anyhow::Result<String> {
    let mut sender = load::connect(addr).await?;
    let request = Request::post("/admin/virtual-keys")
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.as_u16() == 201,
        "making a virtual key: HTTP {status}"
    );
    let made: serde_json::Value = serde_json::from_slice(&bytes)?;
    made["key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no key in the answer"))
}

//! `loadbench soak`: the release binary for minutes against an upstream that
//! misbehaves at random ([`crate::faulty`]), under mixed traffic (whole and
//! streamed; `/v1/messages` native and translated, `/p/…` passthrough), with
//! clients that send broken JSON or leave mid-stream. It prints what clients
//! saw, by kind, keyrelay's memory and open files over time, and the upstream
//! calls failover spent beyond each request's first.

mod clients;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::faulty::{self, Fault, Tally};
use crate::procs::{cpu_seconds, free_port, memory_kib, wait_listening, Running};

/// How a soak runs.
pub struct Settings {
    pub minutes: f64,
    /// Requests per second, over all clients.
    pub rate: f64,
    pub clients: usize,
    pub seed: u64,
    /// Every request traced to a collector that is not there: `refused`
    /// (nothing listens) or `silent` (accepts, never answers).
    pub dead_collector: Option<String>,
}

/// Keys are obviously fake; four per provider, so failover has room.
const ANTHROPIC_KEYS: &str = "soak-key-anthropic-0000000001,soak-key-anthropic-0000000002,soak-key-anthropic-0000000003,soak-key-anthropic-0000000004";
const OPENAI_KEYS: &str = "soak-key-openai-0000000000001,soak-key-openai-0000000000002,soak-key-openai-0000000000003,soak-key-openai-0000000000004";

/// Short timeouts, so a silent upstream costs seconds, not minutes.
const CONFIG: &str = "[server]\nheader_read_timeout = 10\nidle_timeout = 30\n\n[timeouts]\nconnect = 2\nfirst_byte = 2\nidle = 2\nrequest = 20\nerror_body = 2\n";

/// Share of requests sent with a broken JSON body, and of streams the
/// client leaves after its first bytes.
const MALFORMED: f64 = 0.02;
const LEAVES: f64 = 0.03;

pub fn run(keyrelay: &Path, settings: &Settings) -> anyhow::Result<()> {
    let tally = Arc::new(Tally::default());
    let fake_addr = free_port()?;
    let listener = std::net::TcpListener::bind(fake_addr)?;
    listener.set_nonblocking(true)?;
    {
        let (tally, seed) = (tally.clone(), settings.seed);
        std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                faulty::serve(listener, tally, seed).await
            })
        });
    }
    let dir = std::env::temp_dir().join(format!("keyrelay-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("soak.toml");
    std::fs::write(&config, CONFIG)?;
    let addr = free_port()?;
    let base = format!("http://{fake_addr}");
    // A silent collector: connections wait in its backlog, never answered.
    let mut _silent = None;
    let tracing_env: Vec<(&str, String)> = match settings.dead_collector.as_deref() {
        None => Vec::new(),
        Some(kind) => {
            let collector = free_port()?;
            if kind == "silent" {
                _silent = Some(std::net::TcpListener::bind(collector)?);
            }
            println!("tracing every request to a {kind} collector at {collector}");
            vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
                ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
            ]
        }
    };
    let keyrelay = Running::spawn(
        "keyrelay",
        Command::new(keyrelay)
            .env_clear()
            .envs(tracing_env.iter().map(|(k, v)| (k, v)))
            .args(["serve", "--listen", &addr.to_string(), "--state", "memory"])
            .args(["--log", "error", "--config"])
            .arg(&config)
            .env("ANTHROPIC_API_KEYS", ANTHROPIC_KEYS)
            .env("ANTHROPIC_UPSTREAM_BASE_URL", &base)
            .env("OPENAI_API_KEYS", OPENAI_KEYS)
            .env("OPENAI_BASE_URL", format!("{base}/v1")),
    )?;
    wait_listening("keyrelay", addr)?;
    let pid = keyrelay.pid();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let duration = Duration::from_secs_f64(settings.minutes * 60.0);
    let stats = Arc::new(Mutex::new(Stats::default()));
    println!(
        "keyrelay soak: {:.1} min, {} requests/s from {} clients, seed {}\n",
        settings.minutes, settings.rate, settings.clients, settings.seed
    );
    let samples = runtime.block_on(async {
        let until = Instant::now() + duration;
        let period = Duration::from_secs_f64(settings.clients as f64 / settings.rate.max(0.1));
        let clients: Vec<_> = (0..settings.clients)
            .map(|id| {
                let seed = settings.seed.wrapping_mul(1000).wrapping_add(id as u64);
                tokio::spawn(clients::client(addr, until, period, seed, stats.clone()))
            })
            .collect();
        let samples = sample(pid, until, duration, &stats).await;
        for client in clients {
            let _ = client.await;
        }
        samples
    });
    let alive = std::net::TcpStream::connect(addr).is_ok();
    report(&stats, &tally, &samples, pid, alive);
    drop(keyrelay);
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(alive, "keyrelay stopped answering");
    Ok(())
}

/// What clients saw.
#[derive(Default)]
struct Stats {
    requests: u64,
    outcomes: BTreeMap<String, u64>,
    /// Upstream calls beyond each answer's first (`x-keyrelay-attempts` − 1).
    wasted: u64,
    /// Upstream calls the answers report (`x-keyrelay-attempts`).
    attempts: u64,
}

/// One resident-memory sample of keyrelay.
struct Sample {
    at: Duration,
    requests: u64,
    rss_kib: u64,
    fds: usize,
}

async fn sample(pid: u32, until: Instant, duration: Duration, stats: &Mutex<Stats>) -> Vec<Sample> {
    let started = Instant::now();
    let every = (duration / 20).max(Duration::from_secs(10));
    let mut samples = Vec::new();
    loop {
        let requests = stats.lock().map(|s| s.requests).unwrap_or(0);
        let sample = Sample {
            at: started.elapsed(),
            requests,
            rss_kib: memory_kib(pid, "VmRSS:").unwrap_or(0),
            fds: std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count),
        };
        eprintln!(
            "soak: {:>5.0} s  {:>7} requests  RSS {:>6.1} MiB  {} open files",
            sample.at.as_secs_f64(),
            sample.requests,
            sample.rss_kib as f64 / 1024.0,
            sample.fds
        );
        samples.push(sample);
        if Instant::now() >= until {
            return samples;
        }
        tokio::time::sleep_until((Instant::now() + every).min(until)).await;
    }
}

fn report(stats: &Mutex<Stats>, tally: &Tally, samples: &[Sample], pid: u32, alive: bool) {
    let Ok(stats) = stats.lock() else { return };
    let upstream = tally.requests.load(Ordering::Relaxed);
    println!("| clients saw | requests | share |");
    println!("|---|---|---|");
    let mut outcomes: Vec<_> = stats.outcomes.iter().collect();
    outcomes.sort_by(|a, b| b.1.cmp(a.1));
    for (outcome, count) in outcomes {
        let share = *count as f64 * 100.0 / stats.requests.max(1) as f64;
        println!("| {outcome} | {count} | {share:.2} % |");
    }
    println!("| **all** | **{}** | |\n", stats.requests);
    println!("| upstream answered with | calls |");
    println!("|---|---|");
    for ((fault, _), count) in Fault::ALL.iter().zip(&tally.faults) {
        println!("| {} | {} |", fault.name(), count.load(Ordering::Relaxed));
    }
    println!("| **all upstream calls** | **{upstream}** |\n");
    println!(
        "Upstream calls beyond each answer's first (x-keyrelay-attempts − 1): {} over {} attempts reported ({:.1} % of client requests); the fake counted {} calls for {} client requests.\n",
        stats.wasted,
        stats.attempts,
        stats.wasted as f64 * 100.0 / stats.requests.max(1) as f64,
        upstream,
        stats.requests
    );
    println!("| at | requests so far | keyrelay RSS | open files |");
    println!("|---|---|---|---|");
    for sample in samples {
        println!(
            "| {:.0} s | {} | {:.1} MiB | {} |",
            sample.at.as_secs_f64(),
            sample.requests,
            sample.rss_kib as f64 / 1024.0,
            sample.fds
        );
    }
    println!(
        "\nkeyrelay peak RSS {:.1} MiB, CPU {:.1} s; {} at the end.",
        memory_kib(pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0,
        cpu_seconds(pid),
        if alive {
            "still accepting connections"
        } else {
            "NOT accepting connections"
        }
    );
}

//! Whole-process measurements of keyrelay, every figure against a baseline
//! taken in the same run (these machines are noisy; ratios travel better):
//!
//! - `loadbench table --keyrelay PATH`: throughput, latency, stream time to
//!   first byte and CPU per request, straight to a minimal fake upstream,
//!   through nginx (when installed) and through keyrelay (passthrough,
//!   translated, streamed, failover), at several concurrencies;
//! - `loadbench prompts --keyrelay PATH`: coding-agent-sized prompts (1k,
//!   10k, 100k tokens) direct, through nginx and through keyrelay, and
//!   small requests' latency beside big ones (head-of-line blocking);
//! - `loadbench memory --keyrelay PATH`: keyrelay's resident memory idle,
//!   with 64 100k-token translated requests in flight, and with many
//!   streams open;
//! - `loadbench fake --port N`: the fake upstream itself (one thread);
//! - `loadbench soak --keyrelay PATH [--minutes N]`: keyrelay for minutes
//!   against an upstream that misbehaves at random (see [`soak`]);
//! - `loadbench traces --keyrelay PATH`: CPU per request with tracing off
//!   and on (see [`traces`]).
#![forbid(unsafe_code)]

mod fake;
mod faulty;
mod load;
mod memory;
mod procs;
mod prompt;
mod prompts;
mod rounds;
mod soak;
mod traces;
mod vkeys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http::{HeaderName, HeaderValue};
use load::{Load, Report};
use procs::{cpu_seconds, free_port, wait_listening, Running};

#[derive(Parser)]
#[command(about = "Load and memory measurements of keyrelay against a fake upstream")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The fake upstream, on one thread.
    Fake {
        #[arg(long)]
        port: u16,
    },
    /// The throughput and latency table.
    Table {
        #[arg(long)]
        keyrelay: PathBuf,
        /// Measured seconds per row (after a short warm-up).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Concurrencies to measure.
        #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
        concurrency: Vec<usize>,
    },
    /// Big prompts: latency and CPU by prompt size, and head-of-line blocking.
    Prompts {
        #[arg(long)]
        keyrelay: PathBuf,
        /// Measured seconds per row (after a short warm-up).
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Prompt sizes in tokens (about four bytes each).
        #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
        tokens: Vec<usize>,
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Prints the Messages request the prompt rows send (for profiling).
    Prompt {
        #[arg(long, default_value = "claude-sonnet-4-5")]
        model: String,
        #[arg(long, default_value_t = 100_000)]
        tokens: usize,
    },
    /// Resident memory idle and with many streams open.
    Memory {
        #[arg(long)]
        keyrelay: PathBuf,
        #[arg(long, default_value_t = 1000)]
        streams: usize,
        /// Clients that keep 100k-token translated requests in flight after
        /// the streams (0: none).
        #[arg(long, default_value_t = 64)]
        big_clients: usize,
        /// keyrelay's `--workers` (default: its own, one per core).
        #[arg(long)]
        workers: Option<usize>,
    },
    /// CPU per request with a virtual key against a static access token,
    /// on one keyrelay, rounds interleaved (`--baseline`: another build's
    /// access-token row in the same rounds).
    Vkeys(rounds::RoundsArgs),
    /// CPU per request with OpenTelemetry tracing off and on, one keyrelay
    /// per row, rounds interleaved (`--baseline`: another build, tracing
    /// off, in the same rounds).
    Traces(rounds::RoundsArgs),
    /// Mixed traffic against an upstream with random faults, for minutes.
    Soak {
        #[arg(long)]
        keyrelay: PathBuf,
        #[arg(long, default_value_t = 30.0)]
        minutes: f64,
        /// Requests per second, over all clients.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seeds the upstream's faults and the clients' choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Trace every request to a collector that is not there: `refused`
        /// (nothing listens) or `silent` (it accepts, never answers).
        #[arg(long, value_parser = ["refused", "silent"])]
        dead_collector: Option<String>,
    },
}

const KEYS: &str = "bench-key-0000000000000a,bench-key-0000000000000b";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.command {
        Cmd::Fake { port } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
                fake::serve(listener).await
            })
        }
        Cmd::Table {
            keyrelay,
            seconds,
            concurrency,
        } => table(&keyrelay, Duration::from_secs_f64(seconds), &concurrency),
        Cmd::Prompts {
            keyrelay,
            seconds,
            tokens,
            concurrency,
        } => prompts::run(
            &keyrelay,
            &prompts::Settings {
                seconds: Duration::from_secs_f64(seconds),
                sizes: tokens,
                concurrency: concurrency.max(1),
            },
        ),
        Cmd::Prompt { model, tokens } => {
            use std::io::Write;
            std::io::stdout().write_all(&prompt::messages_request(&model, tokens))?;
            Ok(())
        }
        Cmd::Memory {
            keyrelay,
            streams,
            big_clients,
            workers,
        } => memory::run(&keyrelay, streams, big_clients, workers),
        Cmd::Vkeys(args) => vkeys::run(&args),
        Cmd::Soak {
            keyrelay,
            minutes,
            rate,
            clients,
            seed,
            dead_collector,
        } => soak::run(
            &keyrelay,
            &soak::Settings {
                minutes,
                rate,
                clients: clients.max(1),
                seed,
                dead_collector,
            },
        ),
        Cmd::Traces(args) => traces::run(&args),
    }
}

/// The fake and a keyrelay in front of it, both started and listening.
struct Setup {
    fake_addr: SocketAddr,
    fake: Running,
    keyrelay_addr: SocketAddr,
    keyrelay: Running,
}

fn start(keyrelay: &Path, workers: Option<usize>) -> anyhow::Result<Setup> {
    let (fake_addr, fake) = start_fake()?;
    let (keyrelay_addr, running) = start_keyrelay(keyrelay, fake_addr, workers, &[])?;
    Ok(Setup {
        fake_addr,
        fake,
        keyrelay_addr,
        keyrelay: running,
    })
}

/// The fake upstream (this program's `fake`), started and listening.
fn start_fake() -> anyhow::Result<(SocketAddr, Running)> {
    let addr = free_port()?;
    let fake = Running::spawn(
        "fake upstream",
        Command::new(std::env::current_exe()?).args(["fake", "--port", &addr.port().to_string()]),
    )?;
    wait_listening("fake upstream", addr)?;
    Ok((addr, fake))
}

/// `keyrelay serve` in front of the fake, with `--workers` when given and
/// `env` besides the keys.
fn start_keyrelay(
    keyrelay: &Path,
    fake_addr: SocketAddr,
    workers: Option<usize>,
    env: &[(&str, &str)],
) -> anyhow::Result<(SocketAddr, Running)> {
    let addr = free_port()?;
    let base = format!("http://{fake_addr}");
    let mut command = Command::new(keyrelay);
    command.env_clear();
    if let Some(workers) = workers {
        command.env("KEYRELAY_WORKERS", workers.to_string());
    }
    command.envs(env.iter().copied());
    let running = Running::spawn(
        "keyrelay",
        command
            .args([
                "serve",
                "--listen",
                &addr.to_string(),
                "--state",
                "memory",
                "--log",
                "warn",
            ])
            .env("ANTHROPIC_API_KEYS", KEYS)
            .env("ANTHROPIC_UPSTREAM_BASE_URL", &base)
            .env("OPENAI_API_KEYS", KEYS)
            .env("OPENAI_BASE_URL", format!("{base}/v1"))
            .env("GEMINI_API_KEYS", KEYS)
            .env("GEMINI_BASE_URL", format!("{base}/v1beta")),
    )?;
    wait_listening("keyrelay", addr)?;
    Ok((addr, running))
}

fn messages_body(model: &str, stream: bool) -> Bytes {
    Bytes::from(
        serde_json::json!({
            "model": model,
            "max_tokens": 64,
            "stream": stream,
            "messages": [{"role": "user", "content": "Say hello"}],
        })
        .to_string()
        .replace("\"stream\": ", "\"stream\":"),
    )
}

/// One row kind of the table.
struct Target {
    name: String,
    addr: SocketAddr,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
    unique_ids: bool,
    /// The process whose CPU is counted, if it is a proxy.
    proxy: Option<u32>,
    /// Compared with the direct stream rather than the direct document.
    streamed: bool,
    /// The `x-keyrelay-attempts` each answer must carry.
    attempts: Option<&'static str>,
}

fn table(keyrelay: &Path, seconds: Duration, concurrencies: &[usize]) -> anyhow::Result<()> {
    let setup = start(keyrelay, None)?;
    // The same build on one thread (`--workers 1`), like nginx's one worker.
    let (single_addr, single) = start_keyrelay(keyrelay, setup.fake_addr, Some(1), &[])?;
    let nginx_dir =
        std::env::temp_dir().join(format!("keyrelay-bench-nginx-{}", std::process::id()));
    let nginx = match procs::find_nginx() {
        Some(binary) => {
            let addr = free_port()?;
            Some((
                addr,
                procs::start_nginx(&binary, &nginx_dir, addr, setup.fake_addr)?,
            ))
        }
        None => {
            eprintln!("loadbench: nginx is not installed; its row is left out");
            None
        }
    };
    let plain = |name: &str, addr: SocketAddr, proxy: Option<u32>| Target {
        name: name.to_owned(),
        addr,
        body: messages_body("claude-sonnet-4-5", false),
        headers: Vec::new(),
        unique_ids: false,
        proxy,
        streamed: false,
        attempts: None,
    };
    let streamed = |name: &str, addr: SocketAddr, proxy: Option<u32>| Target {
        body: messages_body("claude-sonnet-4-5", true),
        streamed: true,
        ..plain(name, addr, proxy)
    };
    let mut targets = vec![plain("direct to the fake", setup.fake_addr, None)];
    if let Some((addr, running)) = &nginx {
        targets.push(plain("nginx reverse proxy", *addr, Some(running.pid())));
    }
    let keyrelays = [
        ("keyrelay", setup.keyrelay_addr, setup.keyrelay.pid()),
        ("keyrelay on one thread", single_addr, single.pid()),
    ];
    // Each keyrelay row checks `x-keyrelay-attempts`: the first key answers,
    // except on the failover row, where the second one must.
    for (name, addr, pid) in keyrelays {
        let row = |what: &str| Target {
            attempts: Some("1"),
            ..plain(&format!("{name}, {what}"), addr, Some(pid))
        };
        targets.extend([
            row("anthropic passthrough"),
            Target {
                body: messages_body("openai@gpt-4.1", false),
                ..row("translated to OpenAI Chat")
            },
            Target {
                headers: vec![(
                    HeaderName::from_static("x-bench-fail-first"),
                    HeaderValue::from_static("1"),
                )],
                unique_ids: true,
                attempts: Some("2"),
                ..row("failover (first key 429)")
            },
        ]);
    }
    targets.push(streamed(
        "direct to the fake, streamed",
        setup.fake_addr,
        None,
    ));
    for (name, addr, pid) in keyrelays {
        targets.push(Target {
            attempts: Some("1"),
            ..streamed(&format!("{name}, streamed passthrough"), addr, Some(pid))
        });
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!("| target | c | req/s (ratio) | p50 | p99 | first byte p50 | CPU/req of the proxy |");
    println!("|---|---|---|---|---|---|---|");
    for &concurrency in concurrencies {
        let mut direct = 0.0;
        let mut direct_streamed = 0.0;
        for target in &targets {
            let load = Load {
                addr: target.addr,
                path: "/v1/messages".to_owned(),
                body: target.body.clone(),
                headers: target.headers.clone(),
                concurrency,
                warmup: Duration::from_millis(500),
                duration: seconds,
                unique_ids: target.unique_ids,
                attempts: target.attempts,
            };
            let (report, cpu) = runtime.block_on(measure(&load, target.proxy));
            let baseline = if target.streamed {
                &mut direct_streamed
            } else {
                &mut direct
            };
            if target.proxy.is_none() {
                *baseline = report.per_second;
            }
            let ratio = if *baseline > 0.0 {
                report.per_second / *baseline
            } else {
                0.0
            };
            print_row(target, concurrency, &report, ratio, cpu);
        }
    }
    drop(nginx);
    let _ = std::fs::remove_dir_all(&nginx_dir);
    drop(single);
    drop(setup);
    Ok(())
}

/// Runs `load`, and reads the proxy's CPU over the measured window.
async fn measure(load: &Load, proxy: Option<u32>) -> (Report, Option<f64>) {
    let from = tokio::time::Instant::now() + load.warmup;
    let until = from + load.duration;
    let cpu = proxy.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(from).await;
            let before = cpu_seconds(pid);
            tokio::time::sleep_until(until).await;
            cpu_seconds(pid) - before
        })
    });
    let report = load::run(load).await;
    let cpu = match cpu {
        Some(task) => task.await.ok(),
        None => None,
    };
    (report, cpu)
}

fn print_row(target: &Target, concurrency: usize, report: &Report, ratio: f64, cpu: Option<f64>) {
    let ms = |micros: f64| {
        if micros < 1000.0 {
            format!("{micros:.0} µs")
        } else {
            format!("{:.2} ms", micros / 1000.0)
        }
    };
    let first_byte = if target.streamed {
        ms(report.first_byte.p50)
    } else {
        "—".to_owned()
    };
    let cpu = match cpu {
        Some(secs) if report.requests > 0 => {
            format!("{:.0} µs", secs * 1e6 / report.requests as f64)
        }
        _ => "—".to_owned(),
    };
    let errors = if report.errors > 0 {
        format!(" ({} errors)", report.errors)
    } else {
        String::new()
    };
    println!(
        "| {} | {concurrency} | {:.1}k ({ratio:.2}){errors} | {} | {} | {first_byte} | {cpu} |",
        target.name,
        report.per_second / 1000.0,
        ms(report.total.p50),
        ms(report.total.p99),
    );
}

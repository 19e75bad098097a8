//! `loadbench prompts`: what a coding agent's big requests cost. For each
//! prompt size (1k, 10k, 100k tokens of a Claude Code–like turn, see
//! [`crate::prompt`]) one closed loop straight to the fake, through nginx,
//! and through keyrelay — Anthropic passthrough, translated to OpenAI Chat
//! and to Gemini — on its default workers and on one thread (as the
//! launchers run it). Every row's p50 is set against direct's and nginx's
//! of the same size in the same run.
//!
//! Then head-of-line blocking: small translated requests, one at a time,
//! alone and while four other clients send 100k-token translated requests
//! to the same keyrelay; the same two loads straight to the fake and
//! through nginx show what the shared cores alone cost.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

use crate::load::{self, Load, Report};
use crate::procs::{free_port, Running};
use crate::prompt::messages_request;

pub struct Settings {
    pub seconds: Duration,
    /// Prompt sizes, in tokens.
    pub sizes: Vec<usize>,
    pub concurrency: usize,
}

/// Where a row sends its requests, and which process's CPU is counted.
#[derive(Clone, Copy)]
struct Via {
    name: &'static str,
    addr: SocketAddr,
    proxy: Option<u32>,
    keyrelay: bool,
}

pub fn run(keyrelay: &Path, settings: &Settings) -> anyhow::Result<()> {
    let setup = crate::start(keyrelay, None)?;
    let (single_addr, single) = crate::start_keyrelay(keyrelay, setup.fake_addr, Some(1), &[])?;
    let nginx_dir =
        std::env::temp_dir().join(format!("keyrelay-bench-nginx-{}", std::process::id()));
    let nginx = start_nginx(&nginx_dir, setup.fake_addr)?;
    let direct = Via {
        name: "direct to the fake",
        addr: setup.fake_addr,
        proxy: None,
        keyrelay: false,
    };
    let nginx_via = nginx.as_ref().map(|(addr, running)| Via {
        name: "nginx reverse proxy",
        addr: *addr,
        proxy: Some(running.pid()),
        keyrelay: false,
    });
    let keyrelays = [
        Via {
            name: "keyrelay",
            addr: setup.keyrelay_addr,
            proxy: Some(setup.keyrelay.pid()),
            keyrelay: true,
        },
        Via {
            name: "keyrelay on one thread",
            addr: single_addr,
            proxy: Some(single.pid()),
            keyrelay: true,
        },
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let c = settings.concurrency;
    println!("| prompt | target | c | req/s | p50 | p99 | p50 ÷ direct | p50 ÷ nginx | CPU/req of the proxy |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for &tokens in &settings.sizes {
        let anthropic = Bytes::from(messages_request("claude-sonnet-4-5", tokens));
        let openai = Bytes::from(messages_request("openai@gpt-4.1", tokens));
        let gemini = Bytes::from(messages_request("gemini@gemini-2.5-pro", tokens));
        let label = format!("{}k tokens ({} KB)", tokens / 1000, anthropic.len() / 1000);
        let mut rows = vec![(direct, "", anthropic.clone())];
        if let Some(via) = nginx_via {
            rows.push((via, "", anthropic.clone()));
        }
        for via in keyrelays {
            rows.extend([
                (via, "anthropic passthrough", anthropic.clone()),
                (via, "translated to OpenAI Chat", openai.clone()),
                (via, "translated to Gemini", gemini.clone()),
            ]);
        }
        let (mut direct_p50, mut nginx_p50) = (None, None);
        for (via, what, body) in rows {
            let load = messages_load(via, body, c, settings.seconds);
            let (report, cpu) = runtime.block_on(crate::measure(&load, via.proxy));
            let name = match what {
                "" => via.name.to_owned(),
                what => format!("{}, {what}", via.name),
            };
            if via.addr == direct.addr {
                direct_p50 = Some(report.total.p50);
            } else if nginx_via.is_some_and(|n| n.addr == via.addr) {
                nginx_p50 = Some(report.total.p50);
            }
            let ratio = |base: Option<f64>| match base {
                Some(base) if base > 0.0 => format!("{:.2}", report.total.p50 / base),
                _ => "—".to_owned(),
            };
            println!(
                "| {label} | {name} | {c} | {:.0}{} | {} | {} | {} | {} | {} |",
                report.per_second,
                errors(&report),
                ms(report.total.p50),
                ms(report.total.p99),
                ratio(direct_p50),
                ratio(nginx_p50),
                cpu_per_request(cpu, &report),
            );
        }
    }
    head_of_line(&runtime, direct, nginx_via, &keyrelays, settings.seconds)?;
    drop(nginx);
    let _ = std::fs::remove_dir_all(&nginx_dir);
    drop(single);
    drop(setup);
    Ok(())
}

/// Small requests' latency alone and beside four clients of 100k-token
/// requests, on each target.
fn head_of_line(
    runtime: &tokio::runtime::Runtime,
    direct: Via,
    nginx: Option<Via>,
    keyrelays: &[Via],
    seconds: Duration,
) -> anyhow::Result<()> {
    const BIG: usize = 100_000;
    const BIG_CLIENTS: usize = 4;
    println!();
    println!("| small requests (c=1) | beside | p50 | p99 | p99 ÷ alone | p99 ÷ direct's | p99 ÷ nginx's |");
    println!("|---|---|---|---|---|---|---|");
    let mut vias = vec![direct];
    vias.extend(nginx);
    vias.extend_from_slice(keyrelays);
    let (mut direct_p99, mut nginx_p99) = ([None; 2], [None; 2]);
    for via in vias {
        // Through keyrelay both kinds are translated (to OpenAI Chat).
        let model = if via.keyrelay {
            "openai@gpt-4.1"
        } else {
            "claude-sonnet-4-5"
        };
        let small = crate::messages_body(model, false);
        let big = Bytes::from(messages_request(model, BIG));
        let mut alone = None;
        for (i, beside) in [None, Some(big)].into_iter().enumerate() {
            let load = messages_load(via, small.clone(), 1, seconds);
            let background = beside.map(|body| {
                let mut big =
                    messages_load(via, body, BIG_CLIENTS, seconds + Duration::from_secs(1));
                big.warmup = Duration::ZERO;
                // Its own thread and runtime: the big requests' clients do
                // not delay the small one's.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for the background clients");
                    runtime.block_on(load::run(&big))
                })
            });
            let (report, _) = runtime.block_on(crate::measure(&load, None));
            let big_report = background.map(|b| b.join().unwrap_or_default());
            let p99 = report.total.p99;
            alone.get_or_insert(p99);
            if via.addr == direct.addr {
                direct_p99[i] = Some(p99);
            } else if nginx.is_some_and(|n| n.addr == via.addr) {
                nginx_p99[i] = Some(p99);
            }
            let ratio = |base: Option<f64>| match base {
                Some(base) if base > 0.0 => format!("{:.2}", p99 / base),
                _ => "—".to_owned(),
            };
            let beside = match &big_report {
                None => "nothing".to_owned(),
                Some(big) => format!(
                    "{BIG_CLIENTS} clients of {}k-token requests ({:.0} req/s{})",
                    BIG / 1000,
                    big.per_second,
                    errors(big)
                ),
            };
            let name = if via.keyrelay {
                format!("{}, translated to OpenAI Chat", via.name)
            } else {
                via.name.to_owned()
            };
            println!(
                "| {name}{} | {beside} | {} | {} | {} | {} | {} |",
                errors(&report),
                ms(report.total.p50),
                ms(p99),
                ratio(alone),
                ratio(direct_p99[i]),
                ratio(nginx_p99[i]),
            );
        }
    }
    Ok(())
}

fn messages_load(via: Via, body: Bytes, concurrency: usize, seconds: Duration) -> Load {
    Load {
        addr: via.addr,
        path: "/v1/messages".to_owned(),
        body,
        headers: Vec::new(),
        concurrency,
        warmup: Duration::from_millis(500),
        duration: seconds,
        unique_ids: false,
        attempts: via.keyrelay.then_some("1"),
    }
}

fn start_nginx(dir: &Path, fake: SocketAddr) -> anyhow::Result<Option<(SocketAddr, Running)>> {
    let Some(binary) = crate::procs::find_nginx() else {
        eprintln!("loadbench: nginx is not installed; its rows are left out");
        return Ok(None);
    };
    let addr = free_port()?;
    Ok(Some((
        addr,
        crate::procs::start_nginx(&binary, dir, addr, fake)?,
    )))
}

fn errors(report: &Report) -> String {
    match report.errors {
        0 => String::new(),
        n => format!(" ({n} errors)"),
    }
}

fn cpu_per_request(cpu: Option<f64>, report: &Report) -> String {
    match cpu {
        Some(secs) if report.requests > 0 => {
            format!("{:.0} µs", secs * 1e6 / report.requests as f64)
        }
        _ => "—".to_owned(),
    }
}

pub fn ms(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

//! `loadbench memory`: keyrelay's resident memory idle (after one
//! request), with many streams open, and while clients keep 100k-token
//! translated requests in flight after them.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::load::{self, Load};
use crate::procs::memory_kib;
use crate::{messages_body, prompt, start};

pub fn run(
    keyrelay: &Path,
    streams: usize,
    big_clients: usize,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let setup = start(keyrelay, workers)?;
    let pid = setup.keyrelay.pid();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    // One request first, so the idle figure includes a warm connection pool.
    runtime.block_on(load::run(&Load {
        addr: setup.keyrelay_addr,
        path: "/v1/messages".to_owned(),
        body: messages_body("claude-sonnet-4-5", false),
        headers: Vec::new(),
        concurrency: 1,
        warmup: Duration::ZERO,
        duration: Duration::from_millis(200),
        unique_ids: false,
        attempts: None,
    }));
    std::thread::sleep(Duration::from_millis(500));
    let idle = memory_kib(pid, "VmRSS:").unwrap_or(0);
    let open = Arc::new(AtomicUsize::new(0));
    let body = messages_body("claude-sonnet-4-5", true);
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let (open, body, addr) = (open.clone(), body.clone(), setup.keyrelay_addr);
            runtime.spawn(async move { load::hold_stream(addr, body, "30", &open).await })
        })
        .collect();
    let until = Instant::now() + Duration::from_secs(60);
    while open.load(Ordering::SeqCst) < streams && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let opened = open.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(2));
    let busy = memory_kib(pid, "VmRSS:").unwrap_or(0);
    runtime.block_on(async {
        for task in tasks {
            let _ = task.await;
        }
    });
    let streams_peak = memory_kib(pid, "VmHWM:").unwrap_or(0);
    // Then big requests in flight at once, after the streams: the peak they
    // raise (what they leave behind would cloud the streams' figure), the
    // most resident memory sampled while they run.
    let sampling = Arc::new(AtomicUsize::new(1));
    let sampler = {
        let sampling = sampling.clone();
        std::thread::spawn(move || {
            let mut most = 0;
            while sampling.load(Ordering::SeqCst) == 1 {
                most = most.max(memory_kib(pid, "VmRSS:").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(20));
            }
            most
        })
    };
    let big = (big_clients > 0).then(|| {
        runtime.block_on(load::run(&Load {
            addr: setup.keyrelay_addr,
            path: "/v1/messages".to_owned(),
            body: Bytes::from(prompt::messages_request("openai@gpt-4.1", 100_000)),
            headers: Vec::new(),
            concurrency: big_clients,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(3),
            unique_ids: false,
            attempts: Some("1"),
        }))
    });
    sampling.store(0, Ordering::SeqCst);
    let peak = sampler.join().unwrap_or(0);
    std::thread::sleep(Duration::from_millis(500));
    let after_big = memory_kib(pid, "VmRSS:").unwrap_or(0);
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!("| keyrelay resident memory | MiB |");
    println!("|---|---|");
    println!("| idle (after one request) | {:.1} |", mib(idle));
    println!("| {opened} streams open | {:.1} |", mib(busy));
    println!("| peak with the streams | {:.1} |", mib(streams_peak));
    if let Some(big) = big {
        println!(
            "| most while {big_clients} clients keep 100k-token translated requests in flight, after the streams ({} served{}) | {:.1} |",
            big.requests,
            match big.errors {
                0 => String::new(),
                n => format!(", {n} errors"),
            },
            mib(peak)
        );
        println!("| after them | {:.1} |", mib(after_big));
    }
    if opened > 0 {
        println!(
            "| per open stream | {:.0} KiB |",
            busy.saturating_sub(idle) as f64 / opened as f64
        );
    }
    drop(setup.fake);
    if opened < streams {
        anyhow::bail!("only {opened} of {streams} streams opened (raise `ulimit -n`?)");
    }
    Ok(())
}

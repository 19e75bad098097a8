//! `loadbench traces`: what OpenTelemetry tracing costs keyrelay. Each row
//! is its own keyrelay in front of one fake upstream: tracing off, tracing
//! on with every request sampled and exported (the fake upstream, which
//! answers any POST with a 200, stands in for the collector), and tracing
//! on towards a dead collector; with `--baseline`, an earlier build too.
//! The rows take turns ([`crate::rounds`]).

use crate::procs::free_port;
use crate::rounds::{self, RoundsArgs, Row};

pub fn run(args: &RoundsArgs) -> anyhow::Result<()> {
    let workers = args.workers;
    let (fake_addr, _fake) = crate::start_fake()?;
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
    let mut configs = vec![
        ("tracing off", &args.keyrelay, Vec::new()),
        (
            "tracing on, every request, to a collector",
            &args.keyrelay,
            on(&live_collector),
        ),
        (
            "tracing on, every request, to a dead collector",
            &args.keyrelay,
            on(&dead_collector),
        ),
    ];
    if let Some(baseline) = &args.baseline {
        configs.push(("baseline build", baseline, Vec::new()));
    }
    let mut rows = Vec::new();
    let mut processes = Vec::new();
    for (name, path, env) in &configs {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (addr, running) = crate::start_keyrelay(path, fake_addr, workers, &env)?;
        rows.push(Row {
            name,
            addr,
            pid: running.pid(),
            headers: Vec::new(),
        });
        processes.push(running);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rounds::measure(&runtime, &rows, args, "keyrelay", "tracing off")
}

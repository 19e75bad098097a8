//! The pool's own cost per request: choosing a key, running one attempt that
//! succeeds at once, recording the outcome. The baseline is the same future
//! awaited without the pool, so the figure is the pool's overhead alone.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use keypool::{
    ApiKey, AttemptReply, ExecuteOptions, KeyEntry, KeyPool, Outcome, PoolConfig, Strategy,
};

fn pool(strategy: Strategy, keys: usize) -> KeyPool {
    let entries = (0..keys)
        .map(|i| KeyEntry::from(ApiKey::new(&format!("bench-key-{i:04}-padding"), None)))
        .collect();
    KeyPool::new(
        "bench",
        entries,
        PoolConfig {
            strategy,
            ..PoolConfig::default()
        },
    )
}

fn execute(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let options = ExecuteOptions::default();
    let mut group = c.benchmark_group("execute_one_success");
    group.bench_function("baseline_no_pool", |b| {
        b.to_async(&runtime).iter(|| async {
            let reply = async {
                AttemptReply {
                    open: false,
                    outcome: Outcome::success(),
                    value: 1u32,
                    status: Some(200),
                }
            }
            .await;
            black_box(reply.value)
        })
    });
    for (name, strategy) in [
        ("sticky", Strategy::Sticky),
        ("round_robin", Strategy::RoundRobin),
        ("least_used", Strategy::LeastUsed),
        ("weighted", Strategy::Weighted),
    ] {
        let pool = pool(strategy, 8);
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let done = pool
                    .execute(&options, |_| async {
                        AttemptReply {
                            open: false,
                            outcome: Outcome::success(),
                            value: 1u32,
                            status: Some(200),
                        }
                    })
                    .await;
                black_box(done.map(|d| d.attempts).unwrap_or(0))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, execute);
criterion_main!(benches);

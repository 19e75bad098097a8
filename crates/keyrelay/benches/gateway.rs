//! One `/v1/messages` round trip through keyrelay against the same request
//! sent straight to the fake upstream, in one run: the ratio is keyrelay's
//! added latency on loopback (routing, key pool, header work, body relay).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use testkit::{FakeUpstream, Reply};

const KEY: &str = "bench-key-00000000000000001";

fn round_trip(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (upstream, gateway) = runtime.block_on(async {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(
            KEY,
            [Reply::anthropic_message("hello from the bench upstream")],
        );
        let env = MapEnv::new([
            ("ANTHROPIC_API_KEYS", KEY.to_owned()),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ]);
        let settings = ServeSettings {
            config: Config::default(),
            ..ServeSettings::default()
        };
        let gateway = RunningGateway::start(&settings, &env)
            .await
            .expect("gateway");
        (upstream, gateway)
    });
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 64,
        "messages": [{"role": "user", "content": "Say hello"}],
    }))
    .expect("json");
    let mut group = c.benchmark_group("messages_round_trip");
    group.throughput(Throughput::Elements(1));
    for (name, url) in [
        (
            "direct_to_upstream",
            format!("{}/v1/messages", upstream.base_url()),
        ),
        ("through_keyrelay", format!("{}/v1/messages", gateway.url())),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = client
                    .post(&url)
                    .header("x-api-key", KEY)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("answer");
                black_box(response.bytes().await.expect("body").len())
            })
        });
    }
    group.finish();
    drop(gateway);
    drop(upstream);
}

criterion_group!(benches, round_trip);
criterion_main!(benches);

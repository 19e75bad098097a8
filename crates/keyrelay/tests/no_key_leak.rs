//! Runs the failover scenarios with debug logging on and asserts that no key
//! material appears in the captured logs or in anything a client receives.

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keypool::ApiKey;
use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::json;
use testkit::{eventually, FakeUpstream, Reply};

const KEYS: [&str; 5] = [
    "test-leak-key-invalid-ABCDEFGH01",
    "test-leak-key-limited-ABCDEFGH02",
    "test-leak-key-broken--ABCDEFGH03",
    "test-leak-key-stream--ABCDEFGH04",
    "test-leak-key-good----ABCDEFGH05",
];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every run of 8 characters of the key's secret part: a key must not leak
/// even partly.
fn fragments(key: &str) -> Vec<String> {
    let secret = &key["test-leak-key-".len()..];
    let chars: Vec<char> = secret.chars().collect();
    chars.windows(8).map(|w| w.iter().collect()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_material_in_logs_or_responses() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let upstream = FakeUpstream::start().await;
    // OpenAI echoes part of a rejected key; this echo carries all of it.
    let echo = format!("Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.", KEYS[0]);
    upstream.on_key(
        KEYS[0],
        [Reply::json(401, json!({"error": {"message": echo, "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}))],
    );
    upstream.on_key(
        KEYS[1],
        [Reply::fixture(
            429,
            "fixtures/errors/openai_rate_limit.json",
        )],
    );
    upstream.on_key(KEYS[2], [Reply::reset()]);
    upstream.on_key(
        KEYS[3],
        [Reply::openai_chat_stream("one two three").cut_after(2)],
    );
    upstream.on_key(KEYS[4], [Reply::openai_chat("fine")]);

    let env = MapEnv::new([
        ("OPENAI_API_KEYS", KEYS.join(",")),
        ("OPENAI_BASE_URL", upstream.base_url()),
        // Gemini has only the echoing key, so its 401 reaches the client.
        ("GEMINI_API_KEYS", KEYS[0].to_owned()),
        ("GEMINI_BASE_URL", upstream.base_url()),
    ]);
    let settings = ServeSettings {
        config: Config::from_toml("[pool]\nstrategy = \"round_robin\"\n").unwrap(),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();
    let client = reqwest::Client::new();
    let mut seen_by_client = String::new();
    for path in [
        "/p/openai/chat/completions",
        "/p/openai/chat/completions",
        "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        "/p/openai/chat/completions",
        "/p/openai/chat/completions",
        "/p/openai/chat/completions",
    ] {
        for stream in [false, true] {
            let response = client
                .post(format!("{}{path}", gateway.url()))
                .json(&json!({"model": "gpt-4.1", "stream": stream, "messages": []}))
                .send()
                .await
                .unwrap();
            seen_by_client.push_str(&format!("{:?}", response.headers()));
            seen_by_client.push_str(&response.text().await.unwrap_or_default());
        }
    }
    // Embeddings, forwarded to OpenAI and translated for Gemini (whose only
    // key's 401 echoes it).
    for model in [
        "openai@text-embedding-3-small",
        "gemini@gemini-embedding-001",
    ] {
        let response = client
            .post(format!("{}/v1/embeddings", gateway.url()))
            .json(&json!({"model": model, "input": ["a", "b"]}))
            .send()
            .await
            .unwrap();
        seen_by_client.push_str(&format!("{:?}", response.headers()));
        seen_by_client.push_str(&response.text().await.unwrap_or_default());
    }
    // A stream that breaks after its answer has started is counted against its
    // key after the client has it all: wait until each such failure is logged.
    let stream_key = ApiKey::new(KEYS[3], None).fingerprint().to_string();
    let logged = || String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    eventually(
        "every broken stream's failure in the log",
        Duration::from_secs(10),
        || {
            let failures = logged()
                .lines()
                .filter(|line| line.contains("key attempt failed") && line.contains(&stream_key))
                .count();
            let broken = upstream.hits(KEYS[3]);
            if broken > 0 && failures >= broken {
                Ok(())
            } else {
                Err(format!("{failures} of {broken}"))
            }
        },
    )
    .await;
    gateway.stop().await;

    let logs = logged();
    assert!(
        logs.contains("key attempt failed"),
        "the scenarios ran with logging: {logs}"
    );
    assert!(
        logs.len() > 2_000,
        "debug logging captured: {} bytes",
        logs.len()
    );
    for key in KEYS {
        for fragment in fragments(key) {
            assert!(
                !logs.contains(&fragment),
                "log output contains `{fragment}` of a key"
            );
            assert!(
                !seen_by_client.contains(&fragment),
                "a client saw `{fragment}` of a key"
            );
        }
    }
    assert!(upstream.total_hits() >= 10);
    assert!(upstream.hits(KEYS[0]) >= 1, "the echoing key was tried");
}

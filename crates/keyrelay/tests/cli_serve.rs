//! The `keyrelay serve` binary as a newcomer runs it: keys in environment
//! variables, a fake upstream as base URL, plain HTTP clients.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use testkit::{FakeUpstream, Reply};
use tokio::process::Command;

#[path = "support/served.rs"]
mod served;

const INVALID: &str = "test-key-cli-invalid-0000001";
const LIMITED: &str = "test-key-cli-limited-0000002";
const GOOD: &str = "test-key-cli-good-0000000003";

#[tokio::test]
async fn a_newcomer_sees_failover_through_the_binary() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
    upstream.on_key(
        "test-gemini-bad-00000001",
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_invalid_key.json",
        )],
    );
    upstream.on_key("test-gemini-good-0000002", [Reply::gemini_generate("hi")]);
    let served = served::serve(
        &[
            ("ANTHROPIC_API_KEYS", format!("{INVALID},{LIMITED},{GOOD}")),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
            (
                "GEMINI_API_KEYS",
                "test-gemini-bad-00000001,test-gemini-good-0000002".into(),
            ),
            ("GEMINI_BASE_URL", upstream.base_url()),
        ],
        &[],
    )
    .await;
    let url = served.url.clone();
    let client = reqwest::Client::new();
    let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let send = || {
        client
            .post(format!("{url}/v1/messages"))
            .header("anthropic-version", "2023-06-01")
            .json(&request)
            .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-keyrelay-attempts"], "3");
    for _ in 0..10 {
        let next = send().await.unwrap();
        assert_eq!(
            (
                next.status().as_u16(),
                next.headers()["x-keyrelay-attempts"].to_str().unwrap()
            ),
            (200, "1")
        );
    }
    assert_eq!(
        (
            upstream.hits(INVALID),
            upstream.hits(LIMITED),
            upstream.hits(GOOD)
        ),
        (1, 1, 11)
    );

    let gemini = client
        .post(format!(
            "{url}/p/gemini/v1beta/models/gemini-2.5-flash:generateContent"
        ))
        .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            gemini.status().as_u16(),
            gemini.headers()["x-keyrelay-attempts"].to_str().unwrap()
        ),
        (200, "2")
    );

    served.stop().await;
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback_without_an_access_token() {
    let output = Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("access token"), "{stderr}");
}

#[tokio::test]
async fn a_bad_config_file_is_reported_with_the_offending_field() {
    let dir = std::env::temp_dir().join(format!("keyrelay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["serve", "--config"])
        .arg(&path)
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lisen"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

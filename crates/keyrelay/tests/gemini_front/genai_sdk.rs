//! The real google-genai Python SDK (pinned in `scripts/e2e-setup`)
//! through keyrelay to a fake Anthropic upstream whose first key is
//! rate-limited: generate_content, generate_content_stream, a function call
//! round trip, count_tokens and the model list.

use std::path::PathBuf;
use std::time::Duration;

use testkit::{FakeUpstream, Reply};

use super::conversation::anthropic_turn;
use super::*;

const ACCESS_TOKEN: &str = "team-token-for-the-genai-sdk";

/// The e2e venv's Python, with google-genai installed by `scripts/e2e-setup`.
fn sdk_python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e/venv/bin/python");
    assert!(
        python.exists(),
        "the google-genai SDK is not installed at {}: run `scripts/e2e-setup` (scripts/test runs it for you)",
        python.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_works_through_an_anthropic_upstream() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/anthropic_rate_limit.json",
        )],
    );
    upstream.on_key_with(GOOD, |request| {
        if request.path.ends_with("count_tokens") {
            return Reply::json(200, json!({"input_tokens": 11}));
        }
        anthropic_turn(request, "/dev/null")
    });
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = start_with(
        &[
            ("ANTHROPIC_API_KEYS", keys.as_str()),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        &format!(
            "[server]\naccess_tokens = [\"{ACCESS_TOKEN}\"]\n[pool]\nsession_affinity = false\n"
        ),
        vec![("fast".to_owned(), "anthropic@claude-sonnet-4-5".to_owned())],
    )
    .await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gemini_front/genai_sdk_check.py");
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(sdk_python())
            .arg(script)
            .args([
                gateway.url().as_str(),
                ACCESS_TOKEN,
                "anthropic@claude-sonnet-4-5",
            ])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the SDK check finishes within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "google-genai SDK check failed (a missing `google.genai` module means: run scripts/e2e-setup):\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(
        report["tool_whole"].as_str().unwrap().contains("sunny"),
        "{report}"
    );
    assert!(
        report["tool_stream"].as_str().unwrap().contains("sunny"),
        "{report}"
    );
    assert_eq!(report["tokens"], 11);
    assert_eq!(
        upstream.hits(LIMITED),
        1,
        "the rate-limited key was tried once, then left to cool"
    );
    for request in upstream.requests_with_key(GOOD) {
        assert_eq!(
            request.header("x-goog-api-key"),
            None,
            "the access token stays here"
        );
    }
}

//! The real google-genai Python SDK (pinned in `scripts/e2e-setup`)
//! through keyrelay: natively to a Gemini upstream, and through the hub to
//! an Anthropic and an OpenAI upstream, each with the first key
//! rate-limited: generate_content, generate_content_stream, a function call
//! round trip, count_tokens and the model list.

use std::path::PathBuf;
use std::time::Duration;

use testkit::{FakeUpstream, Recorded, Reply};

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, openai_turn,
};
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

/// Runs the SDK check for `model` against a gateway whose provider is
/// `upstream` (keys in `keys_var`, base URL in `base_var`), the first key
/// answered with `limited`; returns the check's report.
async fn sdk_against(
    upstream: &FakeUpstream,
    (keys_var, base_var): (&str, &str),
    model: &str,
    limited: Reply,
    turn: fn(&Recorded, &str) -> Reply,
) -> Value {
    upstream.on_key(LIMITED, [limited]);
    upstream.on_key_with(GOOD, move |request| turn(request, "/dev/null"));
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = start_with(
        &[
            (keys_var, keys.as_str()),
            (base_var, upstream.base_url().as_str()),
        ],
        &format!(
            "[server]\naccess_tokens = [\"{ACCESS_TOKEN}\"]\n[pool]\nsession_affinity = false\n"
        ),
        vec![("fast".to_owned(), model.to_owned())],
    )
    .await;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gemini_front/genai_sdk_check.py");
    // A model routed to Gemini itself goes through untranslated.
    let native: &[&str] = if model.starts_with("gemini@") {
        &["native"]
    } else {
        &[]
    };
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(sdk_python())
            .arg(script)
            .args([gateway.url().as_str(), ACCESS_TOKEN, model])
            .args(native)
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
        "google-genai SDK check failed for {model} (a missing `google.genai` module means: run scripts/e2e-setup):\n{stdout}\n{stderr}"
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
    assert_eq!(
        upstream.hits(LIMITED),
        1,
        "the rate-limited key was tried once, then left to cool"
    );
    assert!(upstream.hits(GOOD) >= 6, "the good key served the rest");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_works_through_an_anthropic_upstream() {
    let upstream = FakeUpstream::start().await;
    let report = sdk_against(
        &upstream,
        ("ANTHROPIC_API_KEYS", "ANTHROPIC_UPSTREAM_BASE_URL"),
        "anthropic@claude-sonnet-4-5",
        Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json"),
        |request, file| {
            if request.path.ends_with("count_tokens") {
                return Reply::json(200, json!({"input_tokens": 11}));
            }
            anthropic_turn(request, file)
        },
    )
    .await;
    assert_eq!(report["tokens"], 11);
    for request in upstream.requests_with_key(GOOD) {
        assert_eq!(
            request.header("x-goog-api-key"),
            None,
            "the access token stays here"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_works_through_an_openai_upstream() {
    let upstream = FakeUpstream::start().await;
    let report = sdk_against(
        &upstream,
        ("OPENAI_API_KEYS", "OPENAI_BASE_URL"),
        "openai@gpt-4.1",
        Reply::fixture(429, "fixtures/errors/openai_rate_limit.json"),
        openai_turn,
    )
    .await;
    assert!(
        report["tokens"].as_u64().unwrap() > 0,
        "keyrelay's estimate: {report}"
    );
    for request in upstream.requests() {
        assert_eq!(request.path, "/chat/completions", "translated to Chat");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_works_natively_on_a_gemini_upstream() {
    let upstream = FakeUpstream::start().await;
    let report = sdk_against(
        &upstream,
        ("GEMINI_API_KEYS", "GEMINI_BASE_URL"),
        "gemini@gemini-2.5-flash",
        Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json"),
        gemini_turn,
    )
    .await;
    assert_eq!(report["tokens"], 11, "Gemini's own count");
    assert_gemini_signatures_returned(&upstream.requests_with_key(GOOD));
    for request in upstream.requests_with_key(GOOD) {
        // The SDK's own API version goes up as it called it.
        let method = ["/v1beta", "/v1"].iter().find_map(|v| {
            request
                .path
                .strip_prefix(&format!("{v}/models/gemini-2.5-flash:"))
        });
        assert!(method.is_some(), "Gemini's own API: {}", request.path);
        assert_eq!(
            request.header("x-goog-api-key"),
            Some(GOOD),
            "the pooled key, not the access token"
        );
    }
}

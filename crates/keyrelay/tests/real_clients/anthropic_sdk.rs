//! The official Anthropic Python SDK through keyrelay, for every built-in
//! dialect, with the first key rate-limited so failover sits underneath the
//! translation.

use serde_json::Value;
use testkit::{FakeUpstream, Recorded, Reply};

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, ollama_turn, openai_turn,
};
use super::*;

const LIMITED: &str = "test-key-sdk-limited-000001";
const GOOD: &str = "test-key-sdk-good-000000002";

async fn run_sdk(base_url: &str, model: &str) -> Value {
    run_sdk_check("sdk_check.py", "Anthropic SDK", base_url, model, &[]).await
}

async fn sdk_against(
    keys_var: &str,
    base_var: &str,
    model: &str,
    limited: Reply,
    turn: fn(&Recorded, &str) -> Reply,
) -> FakeUpstream {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [limited]);
    upstream.on_key_with(GOOD, move |request| turn(request, "/dev/null"));
    let gateway = gateway(
        &[
            (keys_var, format!("{LIMITED},{GOOD}")),
            (base_var, upstream.base_url()),
        ],
        &[],
    )
    .await;
    let report = run_sdk(&gateway.url(), model).await;
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
        "the rate-limited key was tried once and then left to cool"
    );
    assert!(upstream.hits(GOOD) >= 6);
    upstream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_through_openai_chat() {
    let limited = Reply::fixture(429, "fixtures/errors/openai_rate_limit.json");
    sdk_against(
        "OPENAI_API_KEYS",
        "OPENAI_BASE_URL",
        "openai@gpt-4.1",
        limited,
        openai_turn,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_through_gemini() {
    let limited = Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json");
    let upstream = sdk_against(
        "GEMINI_API_KEYS",
        "GEMINI_BASE_URL",
        "gemini@gemini-2.5-flash",
        limited,
        gemini_turn,
    )
    .await;
    assert_gemini_signatures_returned(&upstream.requests_with_key(GOOD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_through_ollama_cloud() {
    let limited = Reply::fixture(429, "fixtures/errors/ollama_rate_limit.json");
    sdk_against(
        "OLLAMA_API_KEYS",
        "OLLAMA_CLOUD_BASE_URL",
        "oc/gpt-oss:120b",
        limited,
        ollama_turn,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_through_anthropic_passthrough() {
    let limited = Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json");
    sdk_against(
        "ANTHROPIC_API_KEYS",
        "ANTHROPIC_UPSTREAM_BASE_URL",
        "claude-sonnet-4-5",
        limited,
        anthropic_turn,
    )
    .await;
}

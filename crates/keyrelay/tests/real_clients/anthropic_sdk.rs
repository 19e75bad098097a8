//! The official Anthropic Python SDK through keyrelay, for every built-in
//! dialect, with the first key rate-limited so failover sits underneath the
//! translation.

use testkit::Reply;

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, ollama_turn, openai_turn,
};
use super::*;

const LIMITED: &str = "test-key-sdk-limited-000001";
const GOOD: &str = "test-key-sdk-good-000000002";

const CHECK: SdkCheck = SdkCheck {
    script: "sdk_check.py",
    sdk: "Anthropic SDK",
    limited: LIMITED,
    good: GOOD,
    fast_alias: false,
    min_good_hits: 6,
    knows_native: false,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_works_through_openai_chat() {
    let limited = Reply::fixture(429, "fixtures/errors/openai_rate_limit.json");
    CHECK
        .against(
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
    let upstream = CHECK
        .against(
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
    CHECK
        .against(
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
    CHECK
        .against(
            "ANTHROPIC_API_KEYS",
            "ANTHROPIC_UPSTREAM_BASE_URL",
            "claude-sonnet-4-5",
            limited,
            anthropic_turn,
        )
        .await;
}

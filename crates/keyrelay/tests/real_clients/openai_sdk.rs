//! The official OpenAI Python SDK on `/v1/chat/completions`: natively to an
//! OpenAI upstream, and through the hub to an Anthropic and a Gemini
//! upstream, each with the first key rate-limited so failover sits
//! underneath.

use testkit::Reply;

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, openai_turn,
};
use super::*;

const LIMITED: &str = "test-key-oai-sdk-limited-01";
const GOOD: &str = "test-key-oai-sdk-good-00002";

const CHECK: SdkCheck = SdkCheck {
    script: "openai_sdk_check.py",
    sdk: "OpenAI SDK",
    limited: LIMITED,
    good: GOOD,
    fast_alias: true,
    min_good_hits: 6,
    knows_native: true,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_works_through_an_anthropic_upstream() {
    let limited = Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json");
    CHECK
        .against(
            "ANTHROPIC_API_KEYS",
            "ANTHROPIC_UPSTREAM_BASE_URL",
            "anthropic@claude-sonnet-4-5",
            limited,
            anthropic_turn,
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_works_through_a_gemini_upstream() {
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
async fn the_openai_sdk_works_natively_on_an_openai_upstream() {
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

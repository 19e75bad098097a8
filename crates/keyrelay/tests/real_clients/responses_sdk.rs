//! The official OpenAI Python SDK on `/v1/responses`: natively to an OpenAI
//! upstream (its own `/responses`), and through the hub to an Anthropic and
//! a Gemini upstream, each with the first key rate-limited so failover sits
//! underneath.

use testkit::Reply;

use super::conversation::{anthropic_turn, assert_gemini_signatures_returned, gemini_turn};
use super::responses_turn::openai_responses_turn;
use super::*;

const LIMITED: &str = "test-key-resp-sdk-limited-01";
const GOOD: &str = "test-key-resp-sdk-good-00002";

const CHECK: SdkCheck = SdkCheck {
    script: "responses_sdk_check.py",
    sdk: "OpenAI SDK Responses",
    limited: LIMITED,
    good: GOOD,
    fast_alias: false,
    min_good_hits: 7,
    knows_native: true,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_responses_api_works_through_an_anthropic_upstream() {
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
async fn the_openai_sdk_responses_api_works_through_a_gemini_upstream() {
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
async fn the_openai_sdk_responses_api_works_natively_on_an_openai_upstream() {
    let limited = Reply::fixture(429, "fixtures/errors/openai_rate_limit.json");
    let upstream = CHECK
        .against(
            "OPENAI_API_KEYS",
            "OPENAI_BASE_URL",
            "openai@gpt-4.1",
            limited,
            openai_responses_turn,
        )
        .await;
    for request in upstream.requests() {
        assert_eq!(request.path, "/responses", "OpenAI's own Responses API");
    }
    let previous = upstream.requests_with_key(GOOD).pop().unwrap();
    assert!(
        previous.json().unwrap()["previous_response_id"].is_string(),
        "previous_response_id is OpenAI's to resolve"
    );
}

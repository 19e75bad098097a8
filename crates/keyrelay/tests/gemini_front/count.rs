//! `:countTokens`: Gemini's own counter for Gemini providers (forwarded as
//! is), Anthropic's for Anthropic-dialect providers, else the estimate.

use testkit::{FakeUpstream, Reply};

use super::*;

fn count_request() -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": "How many tokens is this sentence?"}]}]})
}

async fn count(gateway: &RunningGateway, model: &str) -> reqwest::Response {
    post_gemini(
        gateway,
        model,
        "countTokens",
        "",
        count_request().to_string(),
    )
    .await
}

#[tokio::test]
async fn a_gemini_provider_counts_the_clients_own_request() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, json!({"totalTokens": 8, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]}))]);
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = count(&gateway, "gemini-2.5-flash").await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["totalTokens"], 8);
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:countTokens");
    assert_eq!(sent.body, count_request().to_string().as_bytes());
}

#[tokio::test]
async fn an_anthropic_provider_counts_the_hub_request() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, json!({"input_tokens": 14}))]);
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = count(&gateway, "anthropic@claude-sonnet-4-5").await;
    assert_eq!(header(&response, "x-keyrelay-token-count"), "");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"totalTokens": 14}));
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(
        sent.json().unwrap(),
        json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "How many tokens is this sentence?"}]}]})
    );
}

#[tokio::test]
async fn other_providers_get_the_local_estimate() {
    let upstream = FakeUpstream::start().await;
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = count(&gateway, "openai@gpt-4.1").await;
    assert_eq!(header(&response, "x-keyrelay-token-count"), "estimate");
    let body: Value = response.json().await.unwrap();
    let tokens = body["totalTokens"].as_u64().unwrap();
    assert!((8..=20).contains(&tokens), "{body}");
    assert_eq!(upstream.total_hits(), 0);
}

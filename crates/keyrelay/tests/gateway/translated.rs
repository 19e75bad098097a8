//! `/v1/messages` to providers of other dialects: errors in Anthropic shape,
//! broken streams closed properly, token counting.

use serde_json::json;
use testkit::{FakeUpstream, Reply, SseEvent};

use super::*;

async fn openai_gateway(upstream: &FakeUpstream, keys: &str) -> RunningGateway {
    start(
        &[
            ("OPENAI_API_KEYS", keys),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn upstream_errors_become_anthropic_errors_with_retry_after_kept() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/openai_rate_limit.json")
                .header("retry-after", "17"),
        ],
    );
    let gateway = openai_gateway(&upstream, LIMITED).await;
    let response = post_messages(&gateway, &message_request("openai@gpt-4.1", true)).await;
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "17");
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    let (kind, message) = anthropic_error(response).await;
    assert_eq!(kind, "rate_limit_error");
    assert!(message.contains("Rate limit"), "{message}");

    upstream.on_key(
        GOOD,
        [Reply::fixture(
            400,
            "fixtures/errors/openai_validation_error.json",
        )],
    );
    let gateway = openai_gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("openai@gpt-4.1", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    assert_eq!(anthropic_error(response).await.0, "invalid_request_error");
}

#[tokio::test]
async fn a_translated_stream_that_breaks_closes_its_block_then_errors() {
    let upstream = FakeUpstream::start().await;
    let chunk = |content: &str| {
        SseEvent::data(
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
            .to_string(),
        )
    };
    upstream.on_key(
        GOOD,
        [Reply::sse(vec![chunk("Hel"), chunk("lo"), chunk(" there")]).cut_after(2)],
    );
    let gateway = openai_gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("openai@gpt-4.1", true)).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    let body = response.text().await.expect("the stream ends cleanly");
    let names: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "error"
        ],
        "{body}"
    );
}

#[tokio::test]
async fn whole_responses_are_anthropic_messages() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::openai_chat("hi there")]);
    let gateway = openai_gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("oai/gpt-4.1", false)).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["type"], "message");
    assert!(body["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(body["content"][0]["text"], "hi there");
    let sent = upstream.requests()[0].json().unwrap();
    assert_eq!(sent["model"], "gpt-4.1");
    assert_eq!(upstream.requests()[0].path, "/chat/completions");
}

#[tokio::test]
async fn token_counts_come_from_gemini_or_a_local_estimate() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, json!({"totalTokens": 42}))]);
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("OPENAI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let count = |model: &str| {
        client()
            .post(format!("{}/v1/messages/count_tokens", gateway.url()))
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "x".repeat(400)}]}))
            .send()
    };
    let gemini = count("gemini@gemini-2.5-flash").await.unwrap();
    assert_eq!(gemini.status(), 200);
    assert_eq!(
        gemini.json::<serde_json::Value>().await.unwrap(),
        json!({"input_tokens": 42})
    );
    assert!(upstream.requests()[0].path.ends_with(":countTokens"));
    let openai = count("openai@gpt-4.1").await.unwrap();
    assert_eq!(header(&openai, "x-keyrelay-token-count"), "estimate");
    let tokens = openai.json::<serde_json::Value>().await.unwrap()["input_tokens"]
        .as_u64()
        .unwrap();
    assert!((100..=110).contains(&tokens), "{tokens}");
}

#[tokio::test]
async fn the_model_list_shows_what_aliases_route() {
    let aliases = vec![
        ("claude-*".to_owned(), "gemini@gemini-2.5-flash".to_owned()),
        ("fast".to_owned(), "g/gemini-2.5-flash-lite".to_owned()),
    ];
    let gateway = start_with(&[], "", aliases).await;
    let list: serde_json::Value = client()
        .get(format!("{}/v1/models", gateway.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["gemini@gemini-2.5-flash", "fast", "g/gemini-2.5-flash-lite"]
    );
    assert_eq!(list["data"][0]["type"], "model");
    assert_eq!(list["has_more"], false);
}

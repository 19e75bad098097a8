//! Spend is usage × price, whole and streamed, on every client API, with
//! cache reads and cache writes priced apart, forwarded natively and
//! translated through the hub; an unpriced model's spend is unknown, never 0.
//!
//! Prices are the shipped ones: anthropic@claude-sonnet-4-5 $3 input, $15
//! output, $0.30 cache read, $3.75 cache write; openai@gpt-4.1 $2, $8,
//! $0.50; gemini@gemini-2.5-flash $0.30, $2.50, $0.03 (per million tokens).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use testkit::{eventually_async, FakeUpstream, Reply, SseEvent};

use super::*;

/// 1000 input, 2000 cache read, 500 cache write, 300 output on Sonnet:
/// 1000×3 + 2000×0.3 + 500×3.75 + 300×15 = 9,975 USD per million tokens.
const SONNET_NANOS: u64 = 9_975_000;
/// 3000 prompt tokens of which 2000 cached, 300 output on gpt-4.1:
/// 1000×2 + 2000×0.5 + 300×8 = 5,400.
const GPT_NANOS: u64 = 5_400_000;
/// The same counts on gemini-2.5-flash: 1000×0.3 + 2000×0.03 + 300×2.5 = 1,110.
const FLASH_NANOS: u64 = 1_110_000;

fn anthropic_usage() -> Value {
    json!({
        "input_tokens": 1000,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 500,
        "output_tokens": 300,
    })
}

fn anthropic_stream() -> Reply {
    let mut start = anthropic_message(json!({
        "input_tokens": 1000,
        "cache_read_input_tokens": 2000,
        "cache_creation_input_tokens": 500,
        "output_tokens": 1,
    }));
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    Reply::sse([
        SseEvent::json(
            "message_start",
            &json!({"type": "message_start", "message": start}),
        ),
        SseEvent::json(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        SseEvent::json(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hello"}}),
        ),
        SseEvent::json(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        SseEvent::json(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 300}}),
        ),
        SseEvent::json("message_stop", &json!({"type": "message_stop"})),
    ])
}

fn chat_stream(usage: Option<Value>) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        SseEvent::data(
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            .to_string(),
        )
    };
    let mut events = vec![
        chunk(json!({"role": "assistant", "content": "hel"}), Value::Null),
        chunk(json!({"content": "lo"}), json!("stop")),
    ];
    if let Some(usage) = usage {
        events.push(SseEvent::data(
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1",
                   "choices": [], "usage": usage})
            .to_string(),
        ));
    }
    events.push(SseEvent::data("[DONE]"));
    Reply::sse(events)
}

fn gemini_usage() -> Value {
    json!({"promptTokenCount": 3000, "cachedContentTokenCount": 2000, "candidatesTokenCount": 300})
}

fn gemini_answer() -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}, "finishReason": "STOP"}],
        "usageMetadata": gemini_usage(),
    })
}

fn responses_usage() -> Value {
    json!({"input_tokens": 3000, "input_tokens_details": {"cached_tokens": 2000},
           "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 3300})
}

fn responses_answer() -> Value {
    json!({
        "id": "resp_1", "object": "response", "created_at": 1, "status": "completed", "model": "gpt-4.1",
        "output": [{"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "hello", "annotations": []}]}],
        "usage": responses_usage(),
    })
}

/// Waits for the request log to hold `n` requests; the newest.
async fn newest(gateway: &RunningGateway, n: usize) -> Value {
    eventually_async("the request in the log", Duration::from_secs(5), || async {
        let log = requests(gateway).await;
        (log.len() >= n).then(|| log[0].clone())
    })
    .await
}

/// Sends `request`, reads its whole answer, and checks what the log says it cost.
async fn costs(
    gateway: &RunningGateway,
    n: usize,
    request: reqwest::RequestBuilder,
    nanos: u64,
    cache: (u64, u64),
) {
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let _ = answer.bytes().await.unwrap();
    let record = newest(gateway, n).await;
    let what = format!("{} {}: {record}", record["front"], record["path"]);
    assert_eq!(record["cost"], "priced", "{what}");
    let cost = record["cost_usd"].as_f64().unwrap();
    assert!((cost - nanos as f64 / 1e9).abs() < 1e-12, "{what}");
    assert_eq!(
        (
            record["cache_read_tokens"].as_u64(),
            record["cache_write_tokens"].as_u64()
        ),
        (Some(cache.0), Some(cache.1)),
        "{what}"
    );
}

fn post(
    gateway: &RunningGateway,
    path: &str,
    secret: &str,
    body: Value,
) -> reqwest::RequestBuilder {
    client()
        .post(format!("{}{path}", gateway.url()))
        .header("x-api-key", secret)
        .header("anthropic-version", "2023-06-01")
        .json(&body)
}

fn message_body(model: &str, stream: bool) -> Value {
    json!({"model": model, "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "Say hello"}]})
}

#[tokio::test]
async fn spend_is_usage_times_price_on_every_client_api_whole_and_streamed() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, "").await;
    let (id, secret) = make_key(&gateway, json!({"name": "alice", "team": "research"})).await;
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };

    // Messages, native on Anthropic: cache reads and writes apart.
    upstream.on_key(
        KEY,
        [Reply::json(200, anthropic_message(anthropic_usage()))],
    );
    let body = message_body("anthropic@claude-sonnet-4-5", false);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/messages", &secret, body),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;
    upstream.on_key(KEY, [anthropic_stream()]);
    let body = message_body("anthropic@claude-sonnet-4-5", true);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/messages", &secret, body),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;

    // Chat, native on OpenAI: prompt_tokens hold the cached ones.
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            chat_completion(openai_usage(3000, 300, 2000)),
        )],
    );
    let body = chat_body("openai@gpt-4.1", false);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/chat/completions", &secret, body),
        GPT_NANOS,
        (2000, 0),
    )
    .await;
    upstream.on_key(KEY, [chat_stream(Some(openai_usage(3000, 300, 2000)))]);
    let body = chat_body("openai@gpt-4.1", true);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/chat/completions", &secret, body),
        GPT_NANOS,
        (2000, 0),
    )
    .await;

    // Chat translated to Anthropic: the cache writes Chat cannot show still count.
    upstream.on_key(
        KEY,
        [Reply::json(200, anthropic_message(anthropic_usage()))],
    );
    let body = chat_body("anthropic@claude-sonnet-4-5", false);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/chat/completions", &secret, body),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;
    upstream.on_key(KEY, [anthropic_stream()]);
    let body = chat_body("anthropic@claude-sonnet-4-5", true);
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/chat/completions", &secret, body),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;

    // Responses, native on OpenAI, and translated to Anthropic.
    upstream.on_key(KEY, [Reply::json(200, responses_answer())]);
    let body = json!({"model": "openai@gpt-4.1", "input": "Say hello"});
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/responses", &secret, body),
        GPT_NANOS,
        (2000, 0),
    )
    .await;
    upstream.on_key(
        KEY,
        [Reply::sse([
            SseEvent::json("response.created", &json!({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress", "usage": null}})),
            SseEvent::json("response.completed", &json!({"type": "response.completed", "response": responses_answer()})),
        ])],
    );
    let body = json!({"model": "openai@gpt-4.1", "input": "Say hello", "stream": true});
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/responses", &secret, body),
        GPT_NANOS,
        (2000, 0),
    )
    .await;
    upstream.on_key(KEY, [anthropic_stream()]);
    let body =
        json!({"model": "anthropic@claude-sonnet-4-5", "input": "Say hello", "stream": true});
    costs(
        &gateway,
        next(),
        post(&gateway, "/v1/responses", &secret, body),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;

    // Gemini, native: promptTokenCount holds cachedContentTokenCount.
    let contents = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    upstream.on_key(KEY, [Reply::json(200, gemini_answer())]);
    let path = "/v1beta/models/gemini-2.5-flash:generateContent";
    costs(
        &gateway,
        next(),
        post(&gateway, path, &secret, contents.clone()),
        FLASH_NANOS,
        (2000, 0),
    )
    .await;
    upstream.on_key(
        KEY,
        [Reply::sse([SseEvent::data(gemini_answer().to_string())])],
    );
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";
    costs(
        &gateway,
        next(),
        post(&gateway, path, &secret, contents.clone()),
        FLASH_NANOS,
        (2000, 0),
    )
    .await;
    // Gemini translated to Anthropic.
    upstream.on_key(
        KEY,
        [Reply::json(200, anthropic_message(anthropic_usage()))],
    );
    let path = "/v1beta/models/anthropic@claude-sonnet-4-5:generateContent";
    costs(
        &gateway,
        next(),
        post(&gateway, path, &secret, contents),
        SONNET_NANOS,
        (2000, 500),
    )
    .await;

    // The report adds them up by model and by key.
    let (status, report) = admin(&gateway, Method::GET, "/spend?by=model", None).await;
    assert_eq!(status, 200, "{report}");
    let usd_of = |name: &str| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["model"] == name)
            .map(|r| (r["usd"].as_f64().unwrap(), r["requests"].as_u64().unwrap()))
            .unwrap()
    };
    let (sonnet, requests) = usd_of("anthropic@claude-sonnet-4-5");
    assert_eq!(requests, 6);
    assert!(
        (sonnet - 6.0 * SONNET_NANOS as f64 / 1e9).abs() < 1e-9,
        "{report}"
    );
    assert_eq!(usd_of("openai@gpt-4.1").1, 4);
    assert_eq!(usd_of("gemini@gemini-2.5-flash").1, 2);
    let (_, by_key) = admin(&gateway, Method::GET, "/spend?by=key", None).await;
    let total = 6 * SONNET_NANOS + 4 * GPT_NANOS + 2 * FLASH_NANOS;
    let row = &by_key["rows"][0];
    assert_eq!(
        (row["key"].as_str(), row["name"].as_str()),
        (Some(id.as_str()), Some("alice"))
    );
    assert!(
        (row["usd"].as_f64().unwrap() - total as f64 / 1e9).abs() < 1e-9,
        "{by_key}"
    );
    assert_eq!(row["cache_write_tokens"], 6 * 500);
}

#[tokio::test]
async fn an_unpriced_model_records_its_tokens_and_shows_its_spend_as_unknown() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, "").await;
    let (_, secret) = make_key(&gateway, json!({"name": "bob"})).await;
    upstream.on_key(
        KEY,
        [Reply::json(200, chat_completion(openai_usage(120, 30, 0)))],
    );
    let answer = chat(&gateway, &secret, chat_body("openai@in-house-model", false)).await;
    assert_eq!(answer.status(), 200);
    let record = newest(&gateway, 1).await;
    assert_eq!(
        (record["cost"].as_str(), &record["cost_usd"]),
        (Some("unpriced"), &Value::Null)
    );
    assert_eq!(record["input_tokens"], 120);

    let (_, report) = admin(&gateway, Method::GET, "/spend?by=model", None).await;
    let row = &report["rows"][0];
    assert_eq!(row["model"], "openai@in-house-model");
    assert_eq!(row["usd"], Value::Null, "unknown, never 0: {report}");
    assert_eq!(
        (
            row["input_tokens"].as_u64(),
            row["unpriced_requests"].as_u64()
        ),
        (Some(120), Some(1))
    );
    let csv = client()
        .get(format!("{}/admin/spend?by=model&format=csv", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("openai@in-house-model,,1,120,30,"),
        "{csv}"
    );
    let metrics = metrics(&gateway).await;
    assert!(
        metrics.contains("keyrelay_spend_requests_total{virtual_key=\"bob\",team=\"-\",model=\"openai@in-house-model\",priced=\"false\"} 1"),
        "{metrics}"
    );

    // A key with a USD budget may not use a model whose spend it cannot count.
    let (_, budgeted) =
        make_key(&gateway, json!({"name": "carol", "budget_usd": {"day": 1}})).await;
    let refused = chat(
        &gateway,
        &budgeted,
        chat_body("openai@in-house-model", false),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let (_, message) = error_of(&refused.json().await.unwrap());
    assert!(
        message.contains("[prices.\"openai@in-house-model\"]"),
        "{message}"
    );
}

#[tokio::test]
async fn a_configured_price_overrides_the_shipped_one_and_a_silent_stream_is_estimated() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(
        &upstream,
        "[prices.\"openai@gpt-4.1\"]\ninput = 10.0\noutput = 20.0\ncache_read = 1.0\n",
    )
    .await;
    let (_, secret) = make_key(&gateway, json!({"name": "dave"})).await;
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            chat_completion(openai_usage(3000, 300, 2000)),
        )],
    );
    // 1000×10 + 2000×1 + 300×20 = 18,000.
    let body = chat_body("openai@gpt-4.1", false);
    costs(
        &gateway,
        1,
        post(&gateway, "/v1/chat/completions", &secret, body),
        18_000_000,
        (2000, 0),
    )
    .await;

    // A native stream without include_usage reports nothing: estimated, and marked so.
    upstream.on_key(KEY, [chat_stream(None)]);
    let mut body = chat_body("openai@gpt-4.1", true);
    body.as_object_mut().unwrap().remove("stream_options");
    let answer = post(&gateway, "/v1/chat/completions", &secret, body)
        .send()
        .await
        .unwrap();
    let _ = answer.bytes().await.unwrap();
    let record = newest(&gateway, 2).await;
    assert_eq!(record["cost"], "estimated", "{record}");
    assert!(record["cost_usd"].as_f64().unwrap() > 0.0);
    let (_, report) = admin(&gateway, Method::GET, "/spend?by=model", None).await;
    assert_eq!(report["rows"][0]["estimated_requests"], 1, "{report}");
}

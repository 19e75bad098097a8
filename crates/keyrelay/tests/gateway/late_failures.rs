//! A stream that fails after its head went out is recorded as the failure
//! it was — in the request log, the access log's fields, `/metrics` and its
//! key's counters — never as a success.

use std::time::Duration;

use keypool::OutcomeClass;
use serde_json::{json, Value};
use testkit::{
    anthropic_stream_events, eventually, eventually_async, FakeUpstream, Reply, SseEvent,
};

use super::*;

const ADMIN: &str = "admin-token-for-late-failures";

async fn gateway(upstream: &FakeUpstream, keys: &str) -> RunningGateway {
    start(
        &[
            ("ANTHROPIC_API_KEYS", keys),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n"),
    )
    .await
}

async fn admin_get(gateway: &RunningGateway, path: &str) -> String {
    client()
        .get(format!("{}{path}", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The newest request in the request log, once it is there.
async fn last_request(gateway: &RunningGateway) -> Value {
    eventually_async("the request is logged", Duration::from_secs(5), || async {
        let body: Value =
            serde_json::from_str(&admin_get(gateway, "/admin/requests?limit=1").await).unwrap();
        body["requests"].as_array().and_then(|r| r.first().cloned())
    })
    .await
}

/// The Anthropic events of a stream of `text` up to its first delta, then
/// an error event of `kind`.
fn content_then_error(text: &str, kind: &str) -> Reply {
    let mut events: Vec<SseEvent> = anthropic_stream_events(text).into_iter().take(4).collect();
    let error = json!({"type": "error", "error": {"type": kind, "message": "mid-stream"}});
    events.push(SseEvent::json("error", &error));
    Reply::sse(events)
}

fn outcomes(gateway: &RunningGateway, class: OutcomeClass) -> u64 {
    let pool = gateway
        .live
        .gateway()
        .registry
        .get("anthropic")
        .unwrap()
        .pool
        .clone();
    pool.snapshot()[0].outcomes.get(class)
}

#[tokio::test]
async fn a_stream_cut_after_content_is_recorded_as_failed_never_as_a_success() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::anthropic_stream("Hello brave world").cut_after(4)],
    );
    let gateway = gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    let body = response.text().await.expect("the stream ends cleanly");
    assert!(
        body.ends_with("\n\n") && body.contains("event: error"),
        "{body}"
    );

    let logged = last_request(&gateway).await;
    assert_eq!(logged["status"], 200);
    assert_eq!(logged["ended"], "failed", "{logged}");
    assert_eq!(logged["failure"], "transient", "{logged}");
    assert_eq!(logged["attempts"][0]["class"], "transient", "{logged}");

    eventually(
        "the key counted the failure",
        Duration::from_secs(5),
        || outcomes(&gateway, OutcomeClass::Transient) == 1,
    )
    .await;
    assert_eq!(outcomes(&gateway, OutcomeClass::Success), 0);

    let metrics = admin_get(&gateway, "/metrics").await;
    let failures = metrics
        .lines()
        .find(|l| l.starts_with("keyrelay_stream_failures_total{"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(
        failures.contains("class=\"transient\"")
            && failures.contains("front=\"messages\"")
            && failures.contains("provider=\"anthropic\"")
            && failures.ends_with(" 1"),
        "{failures}"
    );
}

#[tokio::test]
async fn a_stream_that_ends_well_counts_one_success_when_it_ends() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    response.text().await.unwrap();
    let logged = last_request(&gateway).await;
    assert_eq!(
        (&logged["ended"], &logged["failure"]),
        (&json!("complete"), &Value::Null)
    );
    eventually(
        "the key counted the success",
        Duration::from_secs(5),
        || outcomes(&gateway, OutcomeClass::Success) == 1,
    )
    .await;
}

#[tokio::test]
async fn an_error_event_after_content_counts_against_the_key_with_its_class() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [content_then_error("Hello brave world", "rate_limit_error")],
    );
    let gateway = gateway(&upstream, GOOD).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    let body = response.text().await.unwrap();
    // Forwarded as the provider sent it: the client reads the provider's error.
    assert!(body.contains("rate_limit_error"), "{body}");

    let logged = last_request(&gateway).await;
    assert_eq!(logged["ended"], "failed", "{logged}");
    assert_eq!(logged["failure"], "rate_limited", "{logged}");
    eventually(
        "the key counted the rate limit",
        Duration::from_secs(5),
        || outcomes(&gateway, OutcomeClass::RateLimited) == 1,
    )
    .await;
    assert_eq!(outcomes(&gateway, OutcomeClass::Success), 0);
}

#[tokio::test]
async fn a_translated_stream_whose_upstream_sends_an_error_event_is_recorded_as_failed() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [content_then_error("Hello brave world", "overloaded_error")],
    );
    let gateway = gateway(&upstream, GOOD).await;
    let body = json!({"model": "anthropic@claude-sonnet-4-5", "stream": true,
        "messages": [{"role": "user", "content": "Say hello"}]});
    let response = client()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.contains("data: {\"error\""), "{text}");
    let logged = last_request(&gateway).await;
    assert_eq!(logged["front"], "chat");
    assert_eq!(logged["ended"], "failed", "{logged}");
    assert_eq!(logged["failure"], "transient", "{logged}");
    eventually(
        "the key counted the overload",
        Duration::from_secs(5),
        || outcomes(&gateway, OutcomeClass::Transient) == 1,
    )
    .await;
}

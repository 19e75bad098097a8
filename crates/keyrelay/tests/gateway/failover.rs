//! Key failover on /v1/messages against a fake Anthropic upstream.

use std::time::Duration;

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

fn anthropic_env(upstream: &FakeUpstream, keys: &[&str]) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_API_KEYS", keys.join(",")),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ]
}

async fn start_anthropic(upstream: &FakeUpstream, keys: &[&str]) -> RunningGateway {
    let env = anthropic_env(upstream, keys);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    start(&env, "").await
}

fn invalid_key() -> Reply {
    Reply::fixture(401, "fixtures/errors/anthropic_invalid_key.json")
}

fn rate_limited(secs: u64) -> Reply {
    Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
        .header("retry-after", &secs.to_string())
}

#[tokio::test]
async fn skips_an_invalid_and_a_rate_limited_key_then_sticks_to_the_good_one() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(INVALID, [invalid_key()]);
    upstream.on_key(LIMITED, [rate_limited(60)]);
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hello"))]);
    let gateway = start_anthropic(&upstream, &[INVALID, LIMITED, GOOD]).await;

    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(first.status(), 200);
    assert_eq!(attempts(&first), 3);
    assert_eq!(header(&first, "x-keyrelay-provider"), "anthropic");
    let shown = header(&first, "x-keyrelay-key");
    assert!(
        shown.starts_with("...0003#") && shown.len() == 12,
        "fingerprint, not the key: {shown}"
    );
    let body: serde_json::Value = first.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "hello");

    for _ in 0..10 {
        let next = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
        assert_eq!((next.status().as_u16(), attempts(&next)), (200, 1));
    }
    assert_eq!(
        (
            upstream.hits(INVALID),
            upstream.hits(LIMITED),
            upstream.hits(GOOD)
        ),
        (1, 1, 11)
    );
}

#[tokio::test]
async fn injects_the_pooled_key_and_strips_the_client_credential() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    let gateway = start_anthropic(&upstream, &[GOOD]).await;
    let response = client()
        .post(format!("{}/v1/messages?beta=true", gateway.url()))
        .header("authorization", "Bearer client-own-credential")
        .header("x-api-key", "client-own-credential")
        .header("anthropic-beta", "fine-grained-tool-streaming-2025-05-14")
        .json(&message_request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.query.as_deref(), Some("beta=true"));
    assert_eq!(sent.header("x-api-key"), Some(GOOD));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("fine-grained-tool-streaming-2025-05-14")
    );
    // The body goes through byte for byte when the model name is unchanged.
    assert_eq!(
        sent.json().unwrap(),
        message_request("claude-sonnet-4-5", false)
    );
}

#[tokio::test]
async fn with_only_rate_limited_keys_keyrelay_answers_429_itself() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [rate_limited(30)]);
    upstream.on_key(LIMITED_TOO, [rate_limited(45)]);
    let gateway = start_anthropic(&upstream, &[LIMITED, LIMITED_TOO]).await;

    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((first.status().as_u16(), attempts(&first)), (429, 2));
    let (kind, _) = anthropic_error(first).await;
    assert_eq!(
        kind, "rate_limit_error",
        "the last upstream answer comes back"
    );

    let second = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((second.status().as_u16(), attempts(&second)), (429, 0));
    let retry_after: u64 = header(&second, "retry-after").parse().unwrap();
    assert!(
        (29..=30).contains(&retry_after),
        "earliest recovery, got {retry_after}"
    );
    assert_eq!(header(&second, "x-keyrelay-provider"), "anthropic");
    let (kind, message) = anthropic_error(second).await;
    assert_eq!(kind, "rate_limit_error");
    assert!(message.contains("cooling"), "{message}");
    assert_eq!(upstream.total_hits(), 2, "the refusal touched no upstream");
}

#[tokio::test]
async fn an_unknown_model_404_comes_back_at_once_without_rotation() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            404,
            "fixtures/errors/anthropic_model_not_found.json",
        )],
    );
    let gateway = start_anthropic(&upstream, &[LIMITED, GOOD]).await;
    let response = post_messages(&gateway, &message_request("claude-nonexistent-9", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (404, 1));
    let (kind, _) = anthropic_error(response).await;
    assert_eq!(kind, "not_found_error");
    assert_eq!(upstream.hits(GOOD), 0);
}

#[tokio::test]
async fn no_credit_overload_and_broken_connections_each_rotate() {
    for (name, failing) in [
        (
            "402",
            Reply::json(
                402,
                json!({"type": "error", "error": {"type": "billing_error", "message": "Your credit balance is too low"}}),
            ),
        ),
        (
            "529",
            Reply::fixture(529, "fixtures/errors/anthropic_overloaded.json"),
        ),
        (
            "503",
            Reply::json(
                503,
                json!({"type": "error", "error": {"type": "api_error", "message": "Service unavailable"}}),
            ),
        ),
        ("reset", Reply::reset()),
    ] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(LIMITED, [failing]);
        upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
        let gateway = start_anthropic(&upstream, &[LIMITED, GOOD]).await;
        let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
        assert_eq!(
            (response.status().as_u16(), attempts(&response)),
            (200, 2),
            "{name}"
        );
        assert_eq!(
            (upstream.hits(LIMITED), upstream.hits(GOOD)),
            (1, 1),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_same_overload_on_two_keys_stops_rotation() {
    let upstream = FakeUpstream::start().await;
    let overloaded = || Reply::fixture(529, "fixtures/errors/anthropic_overloaded.json");
    upstream.on_key(LIMITED, [overloaded()]);
    upstream.on_key(LIMITED_TOO, [overloaded()]);
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let gateway = start_anthropic(&upstream, &[LIMITED, LIMITED_TOO, GOOD]).await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (529, 2));
    let (kind, _) = anthropic_error(response).await;
    assert_eq!(kind, "overloaded_error");
    assert_eq!(upstream.hits(GOOD), 0);
}

#[tokio::test]
async fn a_slow_first_byte_fails_over_to_the_next_key() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [Reply::hang()]);
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let env = anthropic_env(&upstream, &[LIMITED, GOOD]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = start(&env, "[timeouts]\nfirst_byte = 0.3\n").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
}

#[tokio::test]
async fn when_every_key_is_invalid_keyrelay_says_so_and_names_them() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(INVALID, [invalid_key()]);
    let gateway = start_anthropic(&upstream, &[INVALID]).await;
    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(first.status(), 401);
    let second = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(second.status(), 503);
    let (kind, message) = anthropic_error(second).await;
    assert_eq!(kind, "authentication_error");
    assert!(
        message.contains("disabled") && message.contains("…0001#"),
        "{message}"
    );
    assert_eq!(upstream.hits(INVALID), 1);
}

#[tokio::test]
async fn a_provider_without_keys_names_the_variable_to_set() {
    let gateway = start(&[], "").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(response.status(), 503);
    let (_, message) = anthropic_error(response).await;
    assert!(message.contains("ANTHROPIC_API_KEYS"), "{message}");
}

#[tokio::test]
async fn model_aliases_route_and_rewrite_the_model() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let env = anthropic_env(&upstream, &[GOOD]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let aliases = vec![(
        "claude-*".to_owned(),
        "anthropic@claude-sonnet-4-5".to_owned(),
    )];
    let gateway = start_with(
        &env,
        "[aliases]\n\"my-model\" = \"a/claude-opus-4-1\"\n",
        aliases,
    )
    .await;
    for (asked, sent) in [
        ("claude-3-5-haiku-latest", "claude-sonnet-4-5"),
        ("my-model", "claude-opus-4-1"),
        ("anthropic@claude-x", "claude-x"),
    ] {
        let response = post_messages(&gateway, &message_request(asked, false)).await;
        assert_eq!(response.status(), 200, "{asked}");
        let last = upstream.requests().pop().unwrap();
        assert_eq!(last.json().unwrap()["model"], sent, "{asked}");
    }
}

/// `RunningGateway` is how `keyrelay claude` runs its in-process gateway:
/// it too re-checks disabled keys in the background, as `serve` does.
#[tokio::test]
async fn a_disabled_key_that_works_again_comes_back_by_itself() {
    let upstream = FakeUpstream::start().await;
    let models = Reply::json(200, json!({"data": [], "has_more": false}));
    upstream.on_key(INVALID, [invalid_key(), models]);
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let env = anthropic_env(&upstream, &[INVALID, GOOD]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = start(&env, "[pool]\nrecheck_disabled_every = 0.1\n").await;
    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((first.status().as_u16(), attempts(&first)), (200, 2));

    let available = || async {
        let health: serde_json::Value = client()
            .get(format!("{}/health", gateway.url()))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (health["providers"][0]["available"] == 2).then_some(())
    };
    testkit::eventually_async(
        "the disabled key to be re-checked",
        Duration::from_secs(10),
        available,
    )
    .await;
    let check = upstream
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .expect("a key check was sent");
    assert_eq!(check.path, "/v1/models");
    assert_eq!(check.header("x-api-key"), Some(INVALID));
}

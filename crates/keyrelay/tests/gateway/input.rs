//! Bad input gets a clear 4xx in the caller's own error shape.

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

async fn gateway_with_anthropic(upstream: &FakeUpstream) -> RunningGateway {
    start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "[server]\nmax_body_bytes = 4096\n",
    )
    .await
}

async fn post_raw(gateway: &RunningGateway, body: &'static [u8]) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_missing_model_and_wrong_types_are_400s() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway_with_anthropic(&upstream).await;
    for (body, expected) in [
        (
            &b"{\"model\": \"claude-x\", "[..],
            "not a valid JSON object",
        ),
        (b"[1, 2]", "not a valid JSON object"),
        (b"{\"messages\": []}", "model: field required"),
        (b"{\"model\": 7}", "model: must be a string"),
        (b"{\"model\": \"\"}", "model is empty"),
    ] {
        let response = post_raw(&gateway, body).await;
        assert_eq!(response.status(), 400);
        let (kind, message) = anthropic_error(response).await;
        assert_eq!(kind, "invalid_request_error");
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(upstream.total_hits(), 0);
}

#[tokio::test]
async fn unknown_providers_and_unroutable_models_list_the_known_providers() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway_with_anthropic(&upstream).await;
    for model in ["nosuch@model-1", "mystery-model"] {
        let response = post_messages(&gateway, &message_request(model, false)).await;
        assert_eq!(response.status(), 400, "{model}");
        let (kind, message) = anthropic_error(response).await;
        assert_eq!(kind, "invalid_request_error");
        assert!(
            message.contains("gemini") && message.contains("openrouter"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_oversized_body_is_a_413_in_anthropic_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway_with_anthropic(&upstream).await;
    let big = json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x".repeat(10_000)}]});
    let response = post_messages(&gateway, &big).await;
    assert_eq!(response.status(), 413);
    let (kind, message) = anthropic_error(response).await;
    assert_eq!(kind, "request_too_large");
    assert!(message.contains("4096"), "{message}");
    assert_eq!(upstream.total_hits(), 0);
}

#[tokio::test]
async fn unknown_routes_are_404s_and_health_answers() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway_with_anthropic(&upstream).await;
    let response = client()
        .get(format!("{}/v2/nothing", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(anthropic_error(response).await.0, "not_found_error");
    let health: serde_json::Value = client()
        .get(format!("{}/health", gateway.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["providers"][0],
        json!({"name": "anthropic", "keys": 1, "available": 1})
    );
    assert_eq!(health.get("warning"), None, "a pool has keys: {health}");
}

#[tokio::test]
async fn access_tokens_are_required_when_configured() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "[server]\naccess_tokens = [\"team-token\"]\n",
    )
    .await;
    let denied = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(denied.status(), 401);
    assert_eq!(anthropic_error(denied).await.0, "authentication_error");
    let allowed = client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("authorization", "Bearer team-token")
        .json(&message_request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        upstream.requests()[0].header("authorization"),
        None,
        "the access token is not forwarded"
    );
    let health = client()
        .get(format!("{}/health", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// A Messages body is read where it is translated: one that is JSON with a
/// model but not a Messages request is refused there, before any provider
/// is called, on the OpenAI and the Gemini dialect alike.
#[tokio::test]
async fn an_invalid_messages_request_for_a_translated_provider_is_a_400_without_a_call() {
    let openai = FakeUpstream::start().await;
    let gemini = FakeUpstream::start().await;
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
        ],
        "",
    )
    .await;
    for model in ["openai@gpt-4.1", "gemini@gemini-2.5-flash"] {
        for messages in [
            r#"[{"role": "robot", "content": "hi"}]"#,
            r#"[{"role": "user"}]"#,
            r#"[{"role": "user", "content": 7}]"#,
            r#"[{"role": "user", "content": [{"type": "text", "text": "a lone \udc00 surrogate"}]}]"#,
        ] {
            let body =
                format!(r#"{{"model": "{model}", "max_tokens": 10, "messages": {messages}}}"#);
            let response = client()
                .post(format!("{}/v1/messages", gateway.url()))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{model} {messages}");
            let (kind, message) = anthropic_error(response).await;
            assert_eq!(kind, "invalid_request_error");
            assert!(
                message.contains("not a valid Messages request"),
                "{model} {messages}: {message}"
            );
        }
    }
    assert_eq!(openai.total_hits() + gemini.total_hits(), 0);
}

//! What a `/v1/messages` request becomes upstream: the pooled key in
//! place of the client's credential, the model as routing and aliases
//! rewrite it; and the error when a provider has no keys at all.

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

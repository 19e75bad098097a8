//! Responses clients on providers that serve the Responses API (the
//! built-in openai, custom providers with `responses = true`): the client's
//! bytes go to `{base_url}/responses`, only `model` changed by routing, and
//! the answer comes back as is.

use testkit::{FakeUpstream, Reply};

use super::*;

async fn openai_gateway(upstream: &FakeUpstream) -> RunningGateway {
    start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn the_codex_request_reaches_openai_byte_for_byte_but_the_model_and_streams_back_as_sent() {
    let upstream = FakeUpstream::start().await;
    let recorded = fixture("openai_responses_reasoning_function_call.sse");
    upstream.on_key(
        GOOD,
        [Reply::raw(200, "text/event-stream", recorded.clone())],
    );
    let gateway = openai_gateway(&upstream).await;
    let response = post_bytes(
        &gateway,
        codex_request("openai@gpt-5.1-codex"),
        Some("0199a2f4-5c3e-7d21-9b8a-3f6e1c2d4a5b"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-model"), "gpt-5.1-codex");
    assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    assert_eq!(
        response.bytes().await.unwrap(),
        recorded,
        "the stream as OpenAI sent it"
    );

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/responses");
    assert_eq!(
        sent.body.as_ref(),
        fixture("responses_request_codex.json").as_slice(),
        "Codex's bytes, the routed model being the one it asked for"
    );
    assert_eq!(
        sent.key.as_deref(),
        Some(GOOD),
        "the pooled key, not the client's"
    );
    assert_eq!(
        sent.header("session_id"),
        Some("0199a2f4-5c3e-7d21-9b8a-3f6e1c2d4a5b")
    );
}

#[tokio::test]
async fn a_routed_model_is_the_only_change_to_a_whole_request() {
    let upstream = FakeUpstream::start().await;
    let answer = r#"{"id":"resp_up","object":"response","created_at":1,"status":"completed","model":"gpt-4.1-2025-04-14","output":[{"id":"msg_up","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"text":"hi"}]}],"usage":{"input_tokens":9,"output_tokens":1,"total_tokens":10},"x_vendor":{"kept":true}}"#;
    upstream.on_key(GOOD, [Reply::raw(200, "application/json", answer)]);
    let gateway = openai_gateway(&upstream).await;
    let raw = "{ \"input\": \"Say \\\"model\\\" once\",\n  \"model\" : \"oai/gpt-4.1\", \"temperature\":0.70, \"store\": true, \"previous_response_id\": \"resp_prev\", \"metadata\":{\"model\":\"not this one\"} }";
    let response = post_bytes(&gateway, raw.to_owned(), None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), answer, "the answer as sent");
    let sent = &upstream.requests()[0];
    assert_eq!(
        std::str::from_utf8(&sent.body).unwrap(),
        raw.replace("\"oai/gpt-4.1\"", "\"gpt-4.1\""),
        "byte for byte but the model; previous_response_id is OpenAI's to resolve"
    );
}

#[tokio::test]
async fn a_custom_provider_marked_responses_is_native_and_one_without_is_translated() {
    let (marked, plain) = (FakeUpstream::start().await, FakeUpstream::start().await);
    marked.on_key(
        GOOD,
        [Reply::raw(
            200,
            "application/json",
            r#"{"id":"resp_x","object":"response","output":[]}"#,
        )],
    );
    plain.on_key(GOOD, [Reply::openai_chat("hello through chat completions")]);
    let config = format!(
        "[providers.vendor]\ndialect = \"openai-chat\"\nbase_url = \"{}\"\nresponses = true\n\n[providers.plain]\ndialect = \"openai-chat\"\nbase_url = \"{}\"\n",
        marked.base_url(),
        plain.base_url()
    );
    let gateway = start(
        &[("VENDOR_API_KEYS", GOOD), ("PLAIN_API_KEYS", GOOD)],
        &config,
    )
    .await;

    let response = post(&gateway, &simple_request("vendor@model-a", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(marked.requests()[0].path, "/responses");
    assert_eq!(marked.requests()[0].json().unwrap()["model"], "model-a");

    let body = response_object(post(&gateway, &simple_request("plain@model-b", false)).await).await;
    assert_eq!(output_text(&body), "hello through chat completions");
    let sent = &plain.requests()[0];
    assert_eq!(sent.path, "/chat/completions");
    let sent = sent.json().unwrap();
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "You are terse."})
    );
}

#[tokio::test]
async fn the_flag_adjusts_built_in_providers_both_ways() {
    let (openai, litellm) = (FakeUpstream::start().await, FakeUpstream::start().await);
    openai.on_key(GOOD, [Reply::openai_chat("from a chat-only server")]);
    litellm.on_key(
        GOOD,
        [Reply::raw(
            200,
            "application/json",
            r#"{"id":"resp_l","object":"response","output":[]}"#,
        )],
    );
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
            ("LITELLM_API_KEYS", GOOD),
            ("LITELLM_BASE_URL", litellm.base_url().as_str()),
        ],
        "[providers.openai]\nresponses = false\n\n[providers.litellm]\nresponses = true\n",
    )
    .await;
    let body =
        response_object(post(&gateway, &simple_request("openai@gpt-4.1", false)).await).await;
    assert_eq!(output_text(&body), "from a chat-only server");
    assert_eq!(openai.requests()[0].path, "/chat/completions");
    let response = post(&gateway, &simple_request("ll/claude-sonnet-4-5", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(litellm.requests()[0].path, "/responses");
}

#[tokio::test]
async fn a_native_upstream_error_comes_back_as_the_provider_wrote_it() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::fixture(
            400,
            "fixtures/errors/openai_validation_error.json",
        )],
    );
    let gateway = openai_gateway(&upstream).await;
    let response = post(&gateway, &simple_request("openai@gpt-4.1", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    let body: Value = response.json().await.unwrap();
    let fixture: Value = serde_json::from_slice(&testkit::fixture_bytes(
        "fixtures/errors/openai_validation_error.json",
    ))
    .unwrap();
    assert_eq!(body, fixture);
}

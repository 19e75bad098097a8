//! Chat clients on providers that speak Chat Completions: the client's bytes
//! go up (only `model` changed by routing) and the answer comes back as is.

use testkit::{openai_chat_stream_events, FakeUpstream, Reply};

use super::*;

/// A request as a client may write it: odd spacing and key order, fields
/// keyrelay never reads, numbers as typed.
const RAW: &str = "{ \"messages\":[{\"role\":\"user\",\"content\":\"Say \\\"model\\\" twice\"}],\n  \"model\" : \"openai@gpt-4.1\",\"temperature\":0.70, \"logprobs\":true,\"seed\":7,\"n\":2,\"metadata\":{\"model\":\"not this one\"} }";

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
async fn an_openai_provider_gets_the_clients_bytes_with_only_the_model_changed() {
    let upstream = FakeUpstream::start().await;
    let answer = r#"{"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"message":{"role":"assistant","content":"model model"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11},"x_vendor":{"kept":true}}"#;
    upstream.on_key(GOOD, [Reply::raw(200, "application/json", answer)]);
    let gateway = openai_gateway(&upstream).await;
    let response = post_chat_bytes(&gateway, RAW.to_owned()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-model"), "gpt-4.1");
    assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
    assert_eq!(response.text().await.unwrap(), answer, "the answer as sent");

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(
        std::str::from_utf8(&sent.body).unwrap(),
        RAW.replace("\"openai@gpt-4.1\"", "\"gpt-4.1\""),
        "byte for byte but the model"
    );
    assert_eq!(
        sent.key.as_deref(),
        Some(GOOD),
        "the pooled key, not the client's"
    );
}

#[tokio::test]
async fn a_model_routing_leaves_alone_goes_up_untouched() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::openai_chat("hi")]);
    let gateway = openai_gateway(&upstream).await;
    let raw = RAW.replace("openai@gpt-4.1", "gpt-4.1");
    let response = post_chat_bytes(&gateway, raw.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(upstream.requests()[0].body, raw.as_bytes());
}

#[tokio::test]
async fn a_native_stream_comes_back_byte_for_byte() {
    let upstream = FakeUpstream::start().await;
    let events = openai_chat_stream_events("Hello brave new world");
    upstream.on_key(GOOD, [Reply::sse(events.clone())]);
    let gateway = openai_gateway(&upstream).await;
    let response = post_chat(&gateway, &chat_request("oai/gpt-4.1", true)).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    let body = response.text().await.unwrap();
    let sent: Vec<u8> = events.iter().flat_map(|e| e.encode().to_vec()).collect();
    assert_eq!(body.as_bytes(), sent.as_slice(), "{body}");
    assert_eq!(upstream.requests()[0].json().unwrap()["model"], "gpt-4.1");
}

#[tokio::test]
async fn openrouter_speaks_chat_completions_so_it_is_native_too() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::openai_chat("hi from openrouter")]);
    let gateway = start(
        &[
            ("OPENROUTER_API_KEYS", GOOD),
            ("OPENROUTER_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let mut request = chat_request("or/google/gemini-2.5-flash", false);
    request["provider"] = json!({"order": ["google-vertex"]});
    let body = completion(post_chat(&gateway, &request).await).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "hi from openrouter"
    );
    let sent = upstream.requests()[0].json().unwrap();
    assert_eq!(upstream.requests()[0].path, "/chat/completions");
    assert_eq!(sent["model"], "google/gemini-2.5-flash");
    assert_eq!(
        sent["provider"],
        json!({"order": ["google-vertex"]}),
        "OpenRouter's own fields kept"
    );
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
    let response = post_chat(&gateway, &chat_request("openai@gpt-4.1", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    let body: Value = response.json().await.unwrap();
    let fixture: Value = serde_json::from_slice(&testkit::fixture_bytes(
        "fixtures/errors/openai_validation_error.json",
    ))
    .unwrap();
    assert_eq!(body, fixture);
}

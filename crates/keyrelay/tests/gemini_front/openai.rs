//! Gemini clients on an OpenAI Chat provider, named in the path as
//! `provider@model`, plain or percent-encoded.

use testkit::{FakeUpstream, Reply};

use super::conversation::openai_turn;
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
async fn a_percent_encoded_provider_routes_to_openai_through_the_hub() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::openai_chat("Hello from OpenAI")]);
    let gateway = openai_gateway(&upstream).await;
    let response = generate(&gateway, "openai%40gpt-4.1", &gemini_request()).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-model"), "gpt-4.1");
    let body = answer(response).await;
    assert_eq!(
        body["candidates"][0]["content"]["parts"][0]["text"],
        "Hello from OpenAI"
    );
    assert_eq!(body["modelVersion"], "openai@gpt-4.1");
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {GOOD}").as_str())
    );
    let sent = sent.json().unwrap();
    assert_eq!(sent["model"], "gpt-4.1");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "You are terse."})
    );

    // The same model written plainly.
    upstream.on_key(GOOD, [Reply::openai_chat_stream("Streamed from OpenAI")]);
    let answer = streamed(stream(&gateway, "openai@gpt-4.1", &gemini_request()).await).await;
    assert_eq!(answer.text, "Streamed from OpenAI");
    assert_eq!(answer.finish.as_deref(), Some("STOP"));
}

#[tokio::test]
async fn an_openai_function_call_round_trips_with_its_id() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key_with(GOOD, |request| openai_turn(request, "/dev/null"));
    let gateway = openai_gateway(&upstream).await;
    let answer = streamed(stream(&gateway, "oai/gpt-4.1", &weather_question()).await).await;
    assert_eq!(answer.calls.len(), 1, "{answer:?}");
    let (id, name, args) = answer.calls[0].clone();
    assert_eq!(
        (name.as_str(), args),
        ("get_weather", json!({"city": "Paris"}))
    );
    let follow = streamed(stream(&gateway, "oai/gpt-4.1", &weather_follow_up(&id)).await).await;
    assert!(follow.text.contains("sunny"), "{follow:?}");
    let sent = upstream.requests()[1].json().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(
        messages[1]["tool_calls"][0]["id"],
        id.as_str(),
        "the provider's own id comes back"
    );
    assert_eq!(messages[2]["tool_call_id"], id.as_str());
}

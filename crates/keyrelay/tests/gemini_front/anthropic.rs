//! Gemini clients on an Anthropic-dialect provider: the request goes up as
//! Anthropic Messages and the answer, whole or streamed, comes back in
//! Gemini's shapes.

use testkit::{FakeUpstream, Reply};

use super::conversation::anthropic_turn;
use super::*;

async fn anthropic_gateway(upstream: &FakeUpstream) -> RunningGateway {
    start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn a_whole_anthropic_answer_is_a_generate_content_response() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_message("Hello there")]);
    let gateway = anthropic_gateway(&upstream).await;
    let mut request = gemini_request();
    request["generationConfig"]["stopSequences"] = json!(["END"]);
    let response = generate(&gateway, "anthropic@claude-sonnet-4-5", &request).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "anthropic");
    assert_eq!(header(&response, "x-keyrelay-model"), "claude-sonnet-4-5");
    let body = answer(response).await;
    assert_eq!(
        body["candidates"][0]["content"]["parts"],
        json!([{"text": "Hello there"}])
    );
    assert_eq!(body["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        body["usageMetadata"],
        json!({"promptTokenCount": 10, "candidatesTokenCount": 2, "totalTokenCount": 12})
    );
    assert_eq!(
        body["modelVersion"], "anthropic@claude-sonnet-4-5",
        "the model the client asked for"
    );

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(GOOD));
    assert_eq!(
        sent.header("x-goog-api-key"),
        None,
        "the client's credential stays here"
    );
    assert_eq!(
        sent.json().unwrap(),
        json!({"model": "claude-sonnet-4-5", "system": "You are terse.", "max_tokens": 200,
            "stop_sequences": ["END"], "stream": false,
            "messages": [{"role": "user", "content": [{"type": "text", "text": "Say hello"}]}]})
    );
}

#[tokio::test]
async fn a_streamed_anthropic_answer_is_gemini_sse_ending_with_the_usage_chunk() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = anthropic_gateway(&upstream).await;
    let answer = streamed(stream(&gateway, "claude-sonnet-4-5", &gemini_request()).await).await;
    assert_eq!(answer.text, "Hello brave world");
    assert_eq!(answer.finish.as_deref(), Some("STOP"));
    assert_eq!(
        answer.usage,
        Some(json!({"promptTokenCount": 10, "candidatesTokenCount": 3, "totalTokenCount": 13}))
    );
    let last = answer.chunks.last().unwrap();
    assert!(last.get("usageMetadata").is_some() && last["candidates"][0]["finishReason"] == "STOP");
    assert!(answer.error.is_none());
    assert_eq!(upstream.requests()[0].json().unwrap()["stream"], true);
}

#[tokio::test]
async fn without_alt_sse_a_translated_stream_is_one_json_array() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = anthropic_gateway(&upstream).await;
    let response = post_gemini(
        &gateway,
        "claude-sonnet-4-5",
        "streamGenerateContent",
        "",
        gemini_request().to_string(),
    )
    .await;
    assert!(header(&response, "content-type").starts_with("application/json"));
    let answer = streamed_array(response).await;
    assert_eq!(answer.text, "Hello brave world");
    assert_eq!(answer.finish.as_deref(), Some("STOP"));
}

#[tokio::test]
async fn an_anthropic_function_call_round_trips_with_its_id_whole_and_streamed() {
    for streaming in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(GOOD, |request| anthropic_turn(request, "/dev/null"));
        let gateway = anthropic_gateway(&upstream).await;
        let model = "anthropic@claude-sonnet-4-5";
        let (id, name, args, finish) = if streaming {
            let answer = streamed(stream(&gateway, model, &weather_question()).await).await;
            assert_eq!(answer.calls.len(), 1, "{answer:?}");
            let (id, name, args) = answer.calls[0].clone();
            (id, name, args, answer.finish.unwrap())
        } else {
            let body = answer(generate(&gateway, model, &weather_question()).await).await;
            let call = &body["candidates"][0]["content"]["parts"][0]["functionCall"];
            (
                call["id"].as_str().unwrap().to_owned(),
                call["name"].as_str().unwrap().to_owned(),
                call["args"].clone(),
                body["candidates"][0]["finishReason"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        };
        assert_eq!((id.as_str(), name.as_str()), ("toolu_01", "get_weather"));
        assert_eq!(args, json!({"city": "Paris"}));
        assert_eq!(finish, "STOP", "Gemini ends a turn of calls with STOP");
        let sent = upstream.requests()[0].json().unwrap();
        assert_eq!(sent["tools"][0]["name"], "get_weather");
        assert_eq!(
            sent["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            "Gemini's schema subset as JSON Schema"
        );

        let follow_up = weather_follow_up(&id);
        let text = if streaming {
            streamed(stream(&gateway, model, &follow_up).await)
                .await
                .text
        } else {
            answer(generate(&gateway, model, &follow_up).await).await["candidates"][0]["content"]
                ["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert!(text.contains("sunny"), "{text}");
        let sent = upstream.requests()[1].json().unwrap();
        assert_eq!(
            sent["messages"][1]["content"][0],
            json!({"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}})
        );
        assert_eq!(
            sent["messages"][2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny, 21 C"})
        );
    }
}

#[tokio::test]
async fn a_translated_stream_that_breaks_ends_with_a_gemini_error_chunk() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::anthropic_stream("one two three four").cut_after(5)],
    );
    let gateway = anthropic_gateway(&upstream).await;
    let answer = streamed(stream(&gateway, "claude-sonnet-4-5", &gemini_request()).await).await;
    assert_eq!(answer.text, "one two ");
    let error = answer.error.expect("an error chunk");
    assert_eq!(
        (error["code"].as_u64(), error["status"].as_str()),
        (Some(500), Some("INTERNAL"))
    );
    assert!(answer.finish.is_none());
}

#[tokio::test]
async fn an_anthropic_error_is_a_gemini_error_with_its_status_and_message() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::fixture(
            400,
            "fixtures/errors/anthropic_validation_error.json",
        )],
    );
    let gateway = anthropic_gateway(&upstream).await;
    let response = generate(&gateway, "claude-sonnet-4-5", &gemini_request()).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    let error = gemini_error(response).await;
    assert_eq!(error["status"], "INVALID_ARGUMENT");
    let fixture: Value = serde_json::from_slice(&testkit::fixture_bytes(
        "fixtures/errors/anthropic_validation_error.json",
    ))
    .unwrap();
    assert_eq!(error["message"], fixture["error"]["message"]);
}

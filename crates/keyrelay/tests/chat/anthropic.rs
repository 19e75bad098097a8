//! Chat clients on an Anthropic-dialect provider: the request goes up as
//! Anthropic Messages and the answer, whole or streamed, comes back as Chat.

use testkit::{FakeUpstream, Reply};

use super::conversation::anthropic_turn;
use super::*;

async fn anthropic_gateway(upstream: &FakeUpstream, keys: &str) -> RunningGateway {
    start(
        &[
            ("ANTHROPIC_API_KEYS", keys),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn a_whole_anthropic_answer_is_a_chat_completion() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_message("Hello there")]);
    let gateway = anthropic_gateway(&upstream, GOOD).await;
    let mut request = chat_request("anthropic@claude-sonnet-4-5", false);
    request["max_completion_tokens"] = json!(200);
    request["stop"] = json!(["END"]);
    let response = post_chat(&gateway, &request).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "anthropic");
    assert_eq!(header(&response, "x-keyrelay-model"), "claude-sonnet-4-5");
    let body = completion(response).await;
    assert_eq!(
        body["model"], "anthropic@claude-sonnet-4-5",
        "the model the client asked for"
    );
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12,
            "prompt_tokens_details": {"cached_tokens": 0}})
    );

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(GOOD));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.header("authorization"),
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
async fn a_streamed_anthropic_answer_is_chunks_with_the_usage_chunk_when_asked() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = anthropic_gateway(&upstream, GOOD).await;
    let mut request = chat_request("claude-sonnet-4-5", true);
    request["stream_options"] = json!({"include_usage": true});
    let answer = streamed(post_chat(&gateway, &request).await).await;
    assert_eq!(
        answer.chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(answer.content, "Hello brave world");
    assert_eq!(answer.finish.as_deref(), Some("stop"));
    assert_eq!(
        answer.usage,
        Some(
            json!({"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13,
            "prompt_tokens_details": {"cached_tokens": 0}})
        )
    );
    let last = answer.chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]), "the usage chunk is the last");
    assert!(answer.done && answer.error.is_none());
    assert_eq!(upstream.requests()[0].json().unwrap()["stream"], true);

    request["stream_options"] = Value::Null;
    let answer = streamed(post_chat(&gateway, &request).await).await;
    assert!(answer.usage.is_none());
    assert!(answer.chunks.iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn an_anthropic_tool_call_round_trips_whole_and_streamed() {
    for stream in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(GOOD, |request| anthropic_turn(request, "/dev/null"));
        let gateway = anthropic_gateway(&upstream, GOOD).await;
        let model = "anthropic@claude-sonnet-4-5";
        let response = post_chat(&gateway, &weather_question(model, stream)).await;
        let (id, name, arguments, finish) = if stream {
            let answer = streamed(response).await;
            assert_eq!(answer.calls.len(), 1, "{answer:?}");
            let (index, id, name, arguments) = answer.calls[0].clone();
            assert_eq!(index, 0);
            (id, name, arguments, answer.finish.unwrap())
        } else {
            let body = completion(response).await;
            let call = &body["choices"][0]["message"]["tool_calls"][0];
            assert_eq!(call["type"], "function");
            (
                call["id"].as_str().unwrap().to_owned(),
                call["function"]["name"].as_str().unwrap().to_owned(),
                call["function"]["arguments"].as_str().unwrap().to_owned(),
                body["choices"][0]["finish_reason"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        };
        assert_eq!((id.as_str(), name.as_str()), ("toolu_01", "get_weather"));
        assert_eq!(
            serde_json::from_str::<Value>(&arguments).unwrap(),
            json!({"city": "Paris"})
        );
        assert_eq!(finish, "tool_calls");
        let sent = upstream.requests()[0].json().unwrap();
        assert_eq!(sent["tools"][0]["name"], "get_weather");
        assert_eq!(
            sent["tools"][0]["input_schema"]["required"],
            json!(["city"])
        );

        let response = post_chat(&gateway, &weather_follow_up(model, &id, stream)).await;
        let text = if stream {
            streamed(response).await.content
        } else {
            completion(response).await["choices"][0]["message"]["content"]
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
async fn a_translated_stream_that_breaks_ends_with_an_openai_error_chunk() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::anthropic_stream("one two three four").cut_after(5)],
    );
    let gateway = anthropic_gateway(&upstream, GOOD).await;
    let answer =
        streamed(post_chat(&gateway, &chat_request("claude-sonnet-4-5", true)).await).await;
    assert_eq!(answer.content, "one two ");
    let error = answer.error.expect("an error chunk");
    assert_eq!(error["type"], "api_error");
    assert!(!answer.done, "no [DONE] after an error");
}

#[tokio::test]
async fn an_anthropic_error_is_an_openai_error_with_its_status_and_message() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::fixture(
            400,
            "fixtures/errors/anthropic_validation_error.json",
        )],
    );
    let gateway = anthropic_gateway(&upstream, GOOD).await;
    let response = post_chat(&gateway, &chat_request("claude-sonnet-4-5", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    let error = openai_error(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    let fixture: Value = serde_json::from_slice(&testkit::fixture_bytes(
        "fixtures/errors/anthropic_validation_error.json",
    ))
    .unwrap();
    assert_eq!(error["message"], fixture["error"]["message"]);
}

#[tokio::test]
async fn a_recorded_tool_call_without_arguments_streams_to_a_chat_client_as_an_empty_object() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::fixture(
            200,
            "../dialects/tests/fixtures/anthropic_tool_no_args.sse",
        )],
    );
    let gateway = anthropic_gateway(&upstream, GOOD).await;
    let request = chat_request("anthropic@claude-sonnet-4-5", true);
    let answer = streamed(post_chat(&gateway, &request).await).await;
    assert_eq!(answer.content, "I'll update the issue list for you.");
    assert_eq!(answer.calls.len(), 1, "{answer:?}");
    let (index, id, name, arguments) = answer.calls[0].clone();
    assert_eq!(
        (index, id.as_str(), name.as_str(), arguments.as_str()),
        (0, "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "updateIssueList", "{}")
    );
    assert_eq!(answer.finish.as_deref(), Some("tool_calls"));
}

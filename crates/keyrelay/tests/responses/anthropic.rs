//! Responses clients on an Anthropic-dialect provider: the request goes up
//! as Anthropic Messages, and the answer comes back as a `response` object
//! or the Responses event stream.

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
async fn the_codex_request_reaches_anthropic_as_one_messages_request() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_message("Patched and tested.")]);
    let gateway = anthropic_gateway(&upstream).await;
    let request =
        codex_request("anthropic@claude-sonnet-4-5").replace("\"stream\":true", "\"stream\":false");
    let response = post_bytes(&gateway, request, Some("codex-session-1")).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "anthropic");
    assert_eq!(header(&response, "x-keyrelay-model"), "claude-sonnet-4-5");
    let body = response_object(response).await;
    assert_eq!(
        body["model"], "anthropic@claude-sonnet-4-5",
        "the model the client asked for"
    );
    assert_eq!(body["status"], "completed");
    assert_eq!(output_text(&body), "Patched and tested.");
    let usage = &body["usage"];
    assert_eq!(
        (
            usage["input_tokens"].as_u64(),
            usage["output_tokens"].as_u64()
        ),
        (Some(10), Some(3))
    );
    assert_eq!(usage["total_tokens"], 13);
    assert_eq!(
        body["prompt_cache_key"],
        "0199a2f4-5c3e-7d21-9b8a-3f6e1c2d4a5b"
    );
    assert_eq!(
        body["tools"].as_array().unwrap().len(),
        6,
        "the request's tools, echoed"
    );

    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(GOOD));
    assert_eq!(
        sent.header("authorization"),
        None,
        "the client's credential stays here"
    );
    let sent = sent.json().unwrap();
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    let system = sent["system"].as_str().unwrap();
    assert!(system.starts_with("You are Codex") && system.contains("<permissions instructions>"));
    let tools: Vec<&str> = sent["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "shell_command",
            "update_plan",
            "apply_patch",
            "view_image",
            "mcp__docs__search_docs",
            "mcp__docs__fetch_doc"
        ]
    );
    assert_eq!(sent["messages"].as_array().unwrap().len(), 7);
    assert!(!sent.to_string().contains("encrypted_content"));
    // The last assistant turn called a tool with no signed thinking before it: Anthropic would refuse thinking.
    assert!(sent.get("thinking").is_none(), "{}", sent["thinking"]);
    assert!(
        sent["max_tokens"].as_u64().unwrap() >= 8192,
        "Anthropic requires max_tokens"
    );
}

#[tokio::test]
async fn a_streamed_anthropic_answer_is_the_responses_event_sequence() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = anthropic_gateway(&upstream).await;
    let stream = events(post(&gateway, &simple_request("claude-sonnet-4-5", true)).await).await;
    assert_eq!(
        stream.types(),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    assert_eq!(stream.text(), "Hello brave world");
    let completed = stream.last_response();
    assert_eq!(completed["status"], "completed");
    assert_eq!(output_text(completed), "Hello brave world");
    assert_eq!(completed["usage"]["output_tokens"], 3);
    let added = stream.all("response.output_item.added")[0];
    assert_eq!(added["output_index"], 0);
    let item_id = &added["item"]["id"];
    assert!(stream
        .all("response.output_text.delta")
        .iter()
        .all(|d| &d["item_id"] == item_id && d["content_index"] == 0));
    assert_eq!(upstream.requests()[0].json().unwrap()["stream"], true);
}

#[tokio::test]
async fn a_function_call_round_trips_with_its_call_id_whole_and_streamed() {
    for stream in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(GOOD, |request| anthropic_turn(request, "/dev/null"));
        let gateway = anthropic_gateway(&upstream).await;
        let model = "anthropic@claude-sonnet-4-5";
        let response = post(&gateway, &weather_question(model, stream)).await;
        let call = if stream {
            let answer = events(response).await;
            let deltas: String = answer
                .all("response.function_call_arguments.delta")
                .iter()
                .map(|d| d["delta"].as_str().unwrap())
                .collect();
            let done = answer.all("response.output_item.done")[0]["item"].clone();
            assert_eq!(deltas, done["arguments"].as_str().unwrap());
            assert_eq!(answer.last_response()["output"][0], done);
            done
        } else {
            response_object(response).await["output"][0].clone()
        };
        assert_eq!(call["type"], "function_call");
        assert_eq!(
            (call["call_id"].as_str(), call["name"].as_str()),
            (Some("toolu_01"), Some("get_weather"))
        );
        assert_eq!(
            serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris"})
        );
        let sent = upstream.requests()[0].json().unwrap();
        assert_eq!(
            sent["tools"][0]["input_schema"]["required"],
            json!(["city"])
        );

        let response = post(&gateway, &weather_follow_up(model, &call, stream)).await;
        let text = if stream {
            events(response).await.text()
        } else {
            output_text(&response_object(response).await)
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
async fn anthropic_thinking_streams_as_reasoning_summary_events() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::raw(
            200,
            "text/event-stream",
            fixture("anthropic_thinking.sse"),
        )],
    );
    let gateway = anthropic_gateway(&upstream).await;
    let mut request = simple_request("claude-sonnet-4-5", true);
    request["reasoning"] = json!({"effort": "medium", "summary": "auto"});
    let stream = events(post(&gateway, &request).await).await;
    let summary: String = stream
        .all("response.reasoning_summary_text.delta")
        .iter()
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert!(summary.starts_with("I need to find the GCD"), "{summary}");
    assert_eq!(stream.all("response.reasoning_summary_part.added").len(), 1);
    assert_eq!(
        stream.all("response.reasoning_summary_text.done")[0]["text"],
        summary.as_str()
    );
    let types = stream.types();
    let reasoning_done = types
        .iter()
        .position(|t| *t == "response.reasoning_summary_part.done")
        .unwrap();
    let text_start = types
        .iter()
        .position(|t| *t == "response.output_text.delta")
        .unwrap();
    assert!(reasoning_done < text_start, "{types:?}");
    let completed = stream.last_response();
    assert_eq!(completed["output"][0]["type"], "reasoning");
    assert_eq!(
        completed["output"][0]["summary"][0]["text"],
        summary.as_str()
    );
    assert!(output_text(completed).contains("**21**"));
    let sent = upstream.requests()[0].json().unwrap();
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 12_288})
    );
}

#[tokio::test]
async fn a_translated_stream_that_breaks_ends_with_response_failed() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::anthropic_stream("one two three four").cut_after(5)],
    );
    let gateway = anthropic_gateway(&upstream).await;
    let stream = events(post(&gateway, &simple_request("claude-sonnet-4-5", true)).await).await;
    assert_eq!(stream.text(), "one two ");
    let types = stream.types();
    assert_eq!(types[types.len() - 2..], ["error", "response.failed"]);
    let failed = stream.last_response();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], "api_error");
}

#[tokio::test]
async fn previous_response_id_is_a_400_in_openai_shape_before_any_upstream_call() {
    let upstream = FakeUpstream::start().await;
    let gateway = anthropic_gateway(&upstream).await;
    let mut request = simple_request("anthropic@claude-sonnet-4-5", false);
    request["previous_response_id"] = json!("resp_68af1c2e");
    let response = post(&gateway, &request).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 0));
    let error = openai_error(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("previous_response_id:") && message.contains("keyrelay stores none"),
        "{message}"
    );
    assert_eq!(upstream.total_hits(), 0);
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
    let gateway = anthropic_gateway(&upstream).await;
    let response = post(&gateway, &simple_request("claude-sonnet-4-5", true)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (400, 1));
    let error = openai_error(response).await;
    assert_eq!(error["type"], "invalid_request_error");
    let fixture: Value = serde_json::from_slice(&testkit::fixture_bytes(
        "fixtures/errors/anthropic_validation_error.json",
    ))
    .unwrap();
    assert_eq!(error["message"], fixture["error"]["message"]);
}

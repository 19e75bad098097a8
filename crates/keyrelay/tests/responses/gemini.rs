//! Responses clients on Gemini: Responses → hub → Gemini's API, and back.

use testkit::{FakeUpstream, Reply};

use super::conversation::gemini_turn;
use super::*;

async fn gemini_gateway(upstream: &FakeUpstream) -> RunningGateway {
    start(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn a_whole_gemini_answer_is_a_response_object() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_generate("Hello from Gemini")]);
    let gateway = gemini_gateway(&upstream).await;
    let response = post(&gateway, &simple_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    let body = response_object(response).await;
    assert_eq!(output_text(&body), "Hello from Gemini");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["usage"]["input_tokens"], 10);
    assert_eq!(body["usage"]["output_tokens"], 3);
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some(GOOD));
    let sent = sent.json().unwrap();
    assert_eq!(
        sent["systemInstruction"]["parts"][0]["text"],
        "You are terse."
    );
    assert_eq!(sent["contents"][0]["parts"][0]["text"], "Say hello");
}

#[tokio::test]
async fn the_codex_request_streams_from_gemini_as_responses_events() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_stream("Tests pass: 14 passed.")]);
    let gateway = gemini_gateway(&upstream).await;
    let stream = events(
        post_bytes(
            &gateway,
            codex_request("g/gemini-2.5-pro"),
            Some("codex-session-2"),
        )
        .await,
    )
    .await;
    assert_eq!(stream.text(), "Tests pass: 14 passed.");
    assert_eq!(stream.events.last().unwrap().0, "response.completed");
    let usage = &stream.last_response()["usage"];
    assert_eq!(
        (
            usage["input_tokens"].as_u64(),
            usage["output_tokens"].as_u64()
        ),
        (Some(10), Some(4))
    );
    assert_eq!(usage["total_tokens"], 14);
    let sent = &upstream.requests()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    );
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));
    let sent = sent.json().unwrap();
    let declarations = sent["tools"][0]["functionDeclarations"].as_array().unwrap();
    let names: Vec<&str> = declarations
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "shell_command",
            "update_plan",
            "apply_patch",
            "view_image",
            "mcp__docs__search_docs",
            "mcp__docs__fetch_doc"
        ]
    );
    assert!(sent["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("<permissions instructions>"));
}

#[tokio::test]
async fn a_gemini_function_call_round_trips_whole_and_streamed() {
    for stream in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(GOOD, |request| gemini_turn(request, "/dev/null"));
        let gateway = gemini_gateway(&upstream).await;
        let model = "gemini@gemini-2.5-flash";
        let response = post(&gateway, &weather_question(model, stream)).await;
        let call = if stream {
            let answer = events(response).await;
            answer.all("response.output_item.done")[0]["item"].clone()
        } else {
            response_object(response).await["output"][0].clone()
        };
        assert_eq!(
            (call["type"].as_str(), call["name"].as_str()),
            (Some("function_call"), Some("get_weather"))
        );
        assert_eq!(
            serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris"})
        );
        let response = post(&gateway, &weather_follow_up(model, &call, stream)).await;
        let text = if stream {
            events(response).await.text()
        } else {
            output_text(&response_object(response).await)
        };
        assert!(text.contains("sunny"), "{text}");
        let sent = upstream.requests()[1].json().unwrap();
        let parts = &sent["contents"][2]["parts"][0];
        assert_eq!(parts["functionResponse"]["name"], "get_weather");
    }
}

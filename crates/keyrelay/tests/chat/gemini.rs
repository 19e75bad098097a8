//! Chat clients on Gemini: Chat → hub → Gemini's API, and back.

use testkit::{FakeUpstream, Reply};

use super::conversation::gemini_turn;
use super::*;

async fn gemini_gateway(upstream: &FakeUpstream, keys: &str) -> RunningGateway {
    start(
        &[
            ("GEMINI_API_KEYS", keys),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await
}

#[tokio::test]
async fn a_whole_gemini_answer_is_a_chat_completion() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_generate("Hello from Gemini")]);
    let gateway = gemini_gateway(&upstream, GOOD).await;
    let response = post_chat(&gateway, &chat_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    let body = completion(response).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from Gemini"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 10);
    assert_eq!(body["usage"]["completion_tokens"], 3);
    assert_eq!(body["usage"]["total_tokens"], 13);
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
async fn a_streamed_gemini_answer_is_chunks_with_the_usage_chunk() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_stream("Hello brave world")]);
    let gateway = gemini_gateway(&upstream, GOOD).await;
    let mut request = chat_request("g/gemini-2.5-flash", true);
    request["stream_options"] = json!({"include_usage": true});
    let answer = streamed(post_chat(&gateway, &request).await).await;
    assert_eq!(answer.content, "Hello brave world");
    assert_eq!(answer.finish.as_deref(), Some("stop"));
    assert_eq!(answer.usage.unwrap()["total_tokens"], 13);
    assert!(answer.done);
    let sent = &upstream.requests()[0];
    assert_eq!(
        sent.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));
}

#[tokio::test]
async fn a_gemini_tool_call_round_trips_whole_and_streamed() {
    for stream in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(GOOD, |request| gemini_turn(request, "/dev/null"));
        let gateway = gemini_gateway(&upstream, GOOD).await;
        let model = "gemini@gemini-2.5-flash";
        let response = post_chat(&gateway, &weather_question(model, stream)).await;
        let (id, arguments, finish) = if stream {
            let answer = streamed(response).await;
            assert_eq!(answer.calls.len(), 1, "{answer:?}");
            assert_eq!(answer.calls[0].2, "get_weather");
            (
                answer.calls[0].1.clone(),
                answer.calls[0].3.clone(),
                answer.finish.unwrap(),
            )
        } else {
            let body = completion(response).await;
            let call = &body["choices"][0]["message"]["tool_calls"][0];
            assert_eq!(call["function"]["name"], "get_weather");
            (
                call["id"].as_str().unwrap().to_owned(),
                call["function"]["arguments"].as_str().unwrap().to_owned(),
                body["choices"][0]["finish_reason"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        };
        assert!(!id.is_empty());
        assert_eq!(
            serde_json::from_str::<Value>(&arguments).unwrap(),
            json!({"city": "Paris"})
        );
        assert_eq!(finish, "tool_calls");
        let sent = upstream.requests()[0].json().unwrap();
        assert_eq!(
            sent["tools"][0]["functionDeclarations"][0]["name"],
            "get_weather"
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
        let contents = sent["contents"].as_array().unwrap();
        assert_eq!(
            contents[1]["parts"][0]["functionCall"]["name"],
            "get_weather"
        );
        assert_eq!(
            contents[2]["parts"][0]["functionResponse"],
            json!({"name": "get_weather", "response": {"output": "sunny, 21 C"}})
        );
    }
}

#[tokio::test]
async fn images_reach_gemini_inline_and_by_url() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_generate("A boardwalk")]);
    let gateway = gemini_gateway(&upstream, GOOD).await;
    let request = json!({"model": "gemini@gemini-2.5-flash", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in these images?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/boardwalk.jpg"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]}]});
    let body = completion(post_chat(&gateway, &request).await).await;
    assert_eq!(body["choices"][0]["message"]["content"], "A boardwalk");
    let sent = upstream.requests()[0].json().unwrap();
    let parts = &sent["contents"][0]["parts"];
    assert_eq!(
        parts[1]["fileData"],
        json!({"mimeType": "image/jpeg", "fileUri": "https://example.com/boardwalk.jpg"})
    );
    assert_eq!(
        parts[2]["inlineData"],
        json!({"mimeType": "image/png", "data": "iVBORw0KGgo="})
    );
}

#[tokio::test]
async fn a_json_schema_reaches_gemini_as_its_json_mode() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::gemini_generate("{\"name\":\"fair\"}")]);
    let gateway = gemini_gateway(&upstream, GOOD).await;
    let mut request = chat_request("gemini@gemini-2.5-flash", false);
    request["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "event",
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}}});
    completion(post_chat(&gateway, &request).await).await;
    let sent = upstream.requests()[0].json().unwrap();
    assert_eq!(
        sent["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert_eq!(
        sent["generationConfig"]["responseSchema"]["required"],
        json!(["name"])
    );
    let system = sent["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        system.starts_with("You are terse.") && system.contains("JSON Schema"),
        "{system}"
    );
}

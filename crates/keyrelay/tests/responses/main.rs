//! `POST /v1/responses` over real HTTP on 127.0.0.1: an OpenAI Responses
//! client (Codex CLI's own request among them) in front of keyrelay,
//! testkit fake upstreams of every dialect behind it.

#![allow(clippy::unwrap_used)]

mod anthropic;
mod errors;
mod gemini;
mod native;
mod routing;

/// Fake upstream turns of a one-tool conversation (`get_weather` for Paris,
/// then an answer quoting the tool result), shared with the real-client tests.
#[allow(dead_code)]
#[path = "../real_clients/conversation.rs"]
mod conversation;

#[path = "../support/fronts.rs"]
mod fronts;

pub use fronts::*;
use keyrelay::server::RunningGateway;
use serde_json::{json, Value};

/// A fixture of the dialects crate (see its `tests/fixtures/SOURCES-responses.md`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../dialects/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Codex CLI's request (40 KB: developer messages, reasoning items,
/// parallel, namespaced and custom tool calls, a `web_search` tool…) as it
/// sends it, asking for `model`.
pub fn codex_request(model: &str) -> String {
    let body = String::from_utf8(fixture("responses_request_codex.json")).unwrap();
    let original = "\"model\":\"gpt-5.1-codex\"";
    assert!(body.starts_with(&format!("{{{original}")));
    body.replacen(original, &format!("\"model\":{}", json!(model)), 1)
}

pub fn simple_request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "stream": stream,
        "instructions": "You are terse.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}],
    })
}

/// Posts a Responses request as the openai SDK and Codex do (the client's
/// own key as a bearer token, Codex's `session_id` header when given).
pub async fn post(gateway: &RunningGateway, body: &Value) -> reqwest::Response {
    post_bytes(gateway, body.to_string(), None).await
}

pub async fn post_bytes(
    gateway: &RunningGateway,
    body: String,
    session: Option<&str>,
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{}/v1/responses", gateway.url()))
        .header("authorization", "Bearer client-own-credential")
        .header("content-type", "application/json")
        .body(body);
    if let Some(session) = session {
        request = request.header("session_id", session);
    }
    request.send().await.expect("gateway answers")
}

/// A whole `response` object, checked for its shape.
pub async fn response_object(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON response");
    assert_eq!(body["object"], "response", "{body}");
    assert!(body["id"].as_str().unwrap().starts_with("resp_"), "{body}");
    assert!(
        body["created_at"].as_u64().unwrap() > 1_700_000_000,
        "{body}"
    );
    assert!(body["output"].is_array(), "{body}");
    body
}

/// The text of a response's `message` items.
pub fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap())
        .filter_map(|part| part["text"].as_str())
        .collect()
}

/// A Responses event stream as a client reads it.
#[derive(Debug, Default)]
pub struct Events {
    /// `(event name, data)`, in order.
    pub events: Vec<(String, Value)>,
    pub comments: usize,
}

impl Events {
    pub fn types(&self) -> Vec<&str> {
        self.events.iter().map(|(name, _)| name.as_str()).collect()
    }

    pub fn all(&self, kind: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|(name, _)| name == kind)
            .map(|(_, data)| data)
            .collect()
    }

    pub fn text(&self) -> String {
        self.all("response.output_text.delta")
            .iter()
            .map(|d| d["delta"].as_str().unwrap())
            .collect()
    }

    /// The `response` of the last event (`response.completed`, `.failed`…).
    pub fn last_response(&self) -> &Value {
        &self.events.last().expect("events").1["response"]
    }
}

/// Reads a translated stream, checking what every Responses client relies
/// on: named events whose `type` is their name, `sequence_number` from 0
/// without gaps, `response.created` first.
pub async fn events(response: reqwest::Response) -> Events {
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, "content-type").starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    let body = response.text().await.expect("the stream ends cleanly");
    let mut out = Events::default();
    for event in body.split("\n\n").filter(|e| !e.trim().is_empty()) {
        if event.starts_with(':') {
            out.comments += 1;
            continue;
        }
        let (name, data) = event.split_once('\n').unwrap_or_else(|| panic!("{body}"));
        let name = name
            .strip_prefix("event: ")
            .unwrap_or_else(|| panic!("{body}"));
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["type"], name, "{data}");
        assert_eq!(data["sequence_number"], out.events.len(), "{data}");
        out.events.push((name.to_owned(), data));
    }
    assert_eq!(out.types().first(), Some(&"response.created"), "{body}");
    out
}

/// The weather question with the `get_weather` tool, as a Responses client asks it.
pub fn weather_question(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "stream": stream,
        "input": "What is the weather in Paris?",
        "tools": [{"type": "function", "name": "get_weather",
            "description": "Current weather for a city", "strict": true,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                "required": ["city"], "additionalProperties": false}}],
    })
}

/// The follow-up after the model called `get_weather` as `call_id`: the
/// call and its output appended to the input, as a client keeps no state
/// on the server.
pub fn weather_follow_up(model: &str, call: &Value, stream: bool) -> Value {
    let mut request = weather_question(model, stream);
    request["input"] = json!([
        {"role": "user", "content": "What is the weather in Paris?"},
        call,
        {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny, 21 C"},
    ]);
    request
}

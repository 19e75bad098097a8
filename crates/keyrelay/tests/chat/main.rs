//! `POST /v1/chat/completions` over real HTTP on 127.0.0.1: an OpenAI Chat
//! client in front of keyrelay, testkit fake upstreams of every dialect
//! behind it.

#![allow(clippy::unwrap_used)]

mod anthropic;
mod errors;
mod gemini;
mod models;
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

pub fn chat_request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "stream": stream,
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello"},
        ],
    })
}

/// Posts a Chat Completions request as an OpenAI SDK would (its API key as
/// a bearer token).
pub async fn post_chat(gateway: &RunningGateway, body: &Value) -> reqwest::Response {
    post_chat_bytes(gateway, body.to_string()).await
}

pub async fn post_chat_bytes(gateway: &RunningGateway, body: String) -> reqwest::Response {
    client()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .header("authorization", "Bearer client-own-credential")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway answers")
}

/// A whole `chat.completion`, checked for its shape.
pub async fn completion(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON completion");
    assert_eq!(body["object"], "chat.completion", "{body}");
    assert!(
        body["id"].as_str().unwrap().starts_with("chatcmpl-"),
        "{body}"
    );
    assert!(body["created"].as_u64().unwrap() > 1_700_000_000, "{body}");
    assert_eq!(body["choices"][0]["index"], 0, "{body}");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant", "{body}");
    body
}

/// What an OpenAI SDK makes of a streamed answer.
#[derive(Debug, Default)]
pub struct Streamed {
    pub chunks: Vec<Value>,
    pub content: String,
    /// (index, id, name, arguments)
    pub calls: Vec<(u64, String, String, String)>,
    pub finish: Option<String>,
    pub usage: Option<Value>,
    pub done: bool,
    pub error: Option<Value>,
    pub comments: usize,
}

pub async fn streamed(response: reqwest::Response) -> Streamed {
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, "content-type").starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    let body = response.text().await.expect("the stream ends cleanly");
    let mut out = Streamed::default();
    for event in body.split("\n\n").filter(|e| !e.trim().is_empty()) {
        assert!(!event.starts_with("event:"), "no named events: {body}");
        if event.starts_with(':') {
            out.comments += 1;
            continue;
        }
        let data = event
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("{body}"));
        assert!(!out.done, "nothing after [DONE]: {body}");
        if data == "[DONE]" {
            out.done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(data).unwrap();
        if chunk.get("error").is_some() {
            out.error = Some(chunk["error"].clone());
            continue;
        }
        assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
        if chunk["usage"].is_object() {
            out.usage = Some(chunk["usage"].clone());
        }
        for choice in chunk["choices"].as_array().unwrap() {
            let delta = &choice["delta"];
            out.content += delta["content"].as_str().unwrap_or("");
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_u64().unwrap();
                if !out.calls.iter().any(|c| c.0 == index) {
                    out.calls
                        .push((index, String::new(), String::new(), String::new()));
                }
                let entry = out.calls.iter_mut().find(|c| c.0 == index).unwrap();
                entry.1 += call["id"].as_str().unwrap_or("");
                entry.2 += call["function"]["name"].as_str().unwrap_or("");
                entry.3 += call["function"]["arguments"].as_str().unwrap_or("");
            }
            if let Some(finish) = choice["finish_reason"].as_str() {
                out.finish = Some(finish.to_owned());
            }
        }
        out.chunks.push(chunk);
    }
    out
}

/// The weather question with the `get_weather` tool, as an OpenAI client asks it.
pub fn weather_question(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
        "tools": [{"type": "function", "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        }}],
    })
}

/// The follow-up after the model called `get_weather` as `call_id`.
pub fn weather_follow_up(model: &str, call_id: &str, stream: bool) -> Value {
    let mut request = weather_question(model, stream);
    let messages = request["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}));
    messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": "sunny, 21 C"}));
    request
}

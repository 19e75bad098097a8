//! Gemini's own API (`/v1beta/models/{model}:generateContent` and friends)
//! over real HTTP on 127.0.0.1: a Gemini client in front of keyrelay,
//! testkit fake upstreams of every dialect behind it, and the real
//! google-genai Python SDK.

#![allow(clippy::unwrap_used)]

mod anthropic;
mod count;
mod errors;
mod genai_sdk;
mod models;
mod native;
mod openai;
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

/// A `generateContent` body as the google-genai SDK writes it.
pub fn gemini_request() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "Say hello"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are terse."}]},
        "generationConfig": {"maxOutputTokens": 200},
    })
}

/// Posts to `/v1beta/models/{model}:{method}` (with `query`) as Gemini CLI
/// would: its API key in `x-goog-api-key`, `x-goog-api-client`, its user agent.
pub async fn post_gemini(
    gateway: &RunningGateway,
    model: &str,
    method: &str,
    query: &str,
    body: String,
) -> reqwest::Response {
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    client()
        .post(format!(
            "{}/v1beta/models/{model}:{method}{query}",
            gateway.url()
        ))
        .header("x-goog-api-key", "client-own-credential")
        .header(
            "x-goog-api-client",
            "google-genai-sdk/1.30.0 gl-node/v22.0.0",
        )
        .header(
            "user-agent",
            "GeminiCLI/0.61.0/gemini-2.5-flash (linux; x64)",
        )
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("gateway answers")
}

pub async fn generate(gateway: &RunningGateway, model: &str, body: &Value) -> reqwest::Response {
    post_gemini(gateway, model, "generateContent", "", body.to_string()).await
}

pub async fn stream(gateway: &RunningGateway, model: &str, body: &Value) -> reqwest::Response {
    post_gemini(
        gateway,
        model,
        "streamGenerateContent",
        "alt=sse",
        body.to_string(),
    )
    .await
}

/// Asserts Google's error shape (`{"error": {code, message, status}}`,
/// nothing else at the top, `code` the HTTP status) and returns the error object.
pub async fn gemini_error(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("error body is JSON");
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["error"], "{body}");
    let error = &body["error"];
    assert_eq!(error["code"], status, "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["status"].is_string(), "{body}");
    error.clone()
}

/// A whole `GenerateContentResponse`, checked for its shape.
pub async fn answer(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON answer");
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["content"]["role"], "model", "{body}");
    assert_eq!(candidate["index"], 0, "{body}");
    assert!(candidate["finishReason"].is_string(), "{body}");
    assert!(body["usageMetadata"]["totalTokenCount"].is_u64(), "{body}");
    body
}

/// What a Gemini client makes of a streamed answer.
#[derive(Debug, Default)]
pub struct Streamed {
    pub chunks: Vec<Value>,
    pub text: String,
    pub thoughts: String,
    /// (id, name, args)
    pub calls: Vec<(String, String, Value)>,
    pub finish: Option<String>,
    pub usage: Option<Value>,
    pub error: Option<Value>,
}

impl Streamed {
    fn chunk(&mut self, chunk: Value) {
        if chunk.get("error").is_some() {
            self.error = Some(chunk["error"].clone());
            return;
        }
        let candidate = &chunk["candidates"][0];
        for part in candidate["content"]["parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let text = part["text"].as_str().unwrap_or("");
            if part["thought"] == true {
                self.thoughts += text;
            } else {
                self.text += text;
            }
            if let Some(call) = part.get("functionCall") {
                self.calls.push((
                    call["id"].as_str().unwrap_or("").to_owned(),
                    call["name"].as_str().unwrap().to_owned(),
                    call["args"].clone(),
                ));
            }
        }
        if let Some(finish) = candidate["finishReason"].as_str() {
            self.finish = Some(finish.to_owned());
        }
        if chunk.get("usageMetadata").is_some() {
            self.usage = Some(chunk["usageMetadata"].clone());
        }
        self.chunks.push(chunk);
    }
}

/// Reads `data:` events as the google-genai SDKs do (blank lines skipped).
pub async fn streamed(response: reqwest::Response) -> Streamed {
    assert_eq!(response.status(), 200);
    assert!(
        header(&response, "content-type").starts_with("text/event-stream"),
        "{:?}",
        response.headers()
    );
    let body = response.text().await.expect("the stream ends cleanly");
    let mut out = Streamed::default();
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let data = line
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("only data lines: {body:?}"));
        out.chunk(serde_json::from_str(data).unwrap());
    }
    out
}

/// Reads a stream written as one JSON array (no `alt=sse`).
pub async fn streamed_array(response: reqwest::Response) -> Streamed {
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    let chunks: Vec<Value> = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let mut out = Streamed::default();
    for chunk in chunks {
        out.chunk(chunk);
    }
    out
}

/// The weather question with the `get_weather` declaration, as the
/// google-genai SDK writes it (Gemini's schema subset, upper-case types).
pub fn weather_question() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "What is the weather in Paris?"}]}],
        "tools": [{"functionDeclarations": [{
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
        }]}],
    })
}

/// The follow-up after the model called `get_weather` with `call_id`
/// (Gemini CLI prefixes the function's name to an id, as here).
pub fn weather_follow_up(call_id: &str) -> Value {
    let mut request = weather_question();
    let contents = request["contents"].as_array_mut().unwrap();
    contents.push(json!({"role": "model", "parts": [
        {"functionCall": {"id": format!("get_weather__{call_id}"), "name": "get_weather", "args": {"city": "Paris"}}}]}));
    contents.push(json!({"role": "user", "parts": [
        {"functionResponse": {"id": format!("get_weather__{call_id}"), "name": "get_weather", "response": {"output": "sunny, 21 C"}}}]}));
    request
}

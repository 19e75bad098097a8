//! A team's gateway over real HTTP on 127.0.0.1: virtual keys made through
//! the admin API, used on every front, refused when they should be; spend
//! priced per answer on every client API; budgets and rate limits; reports.

#![allow(clippy::unwrap_used)]

mod budgets;
mod charging;
mod cli;
mod keys;
mod reports;
mod spend;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::{json, Value};
use testkit::FakeUpstream;

pub const ADMIN: &str = "admin-token-for-team-tests";
pub const ACCESS: &str = "access-token-for-team-tests";
/// The provider key every fake upstream is scripted for.
pub const KEY: &str = "test-key-team-0000000000001";

/// A gateway with an admin token and an access token, every built-in
/// provider that takes keys pointed at `upstream`, and `extra` config.
pub async fn gateway(upstream: &FakeUpstream, extra: &str) -> RunningGateway {
    let config =
        format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\naccess_tokens = [\"{ACCESS}\"]\n{extra}");
    let base = upstream.base_url();
    let v1 = format!("{base}/v1");
    let env = [
        ("ANTHROPIC_API_KEYS", KEY),
        ("ANTHROPIC_UPSTREAM_BASE_URL", base.as_str()),
        ("OPENAI_API_KEYS", KEY),
        ("OPENAI_BASE_URL", v1.as_str()),
        ("GEMINI_API_KEYS", KEY),
        ("GEMINI_BASE_URL", base.as_str()),
    ];
    let settings = ServeSettings {
        config: Config::from_toml(&config).expect("test config parses"),
        ..ServeSettings::default()
    };
    let env = MapEnv::new(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    RunningGateway::start(&settings, &env)
        .await
        .expect("gateway starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// An admin call: status and JSON body (or the text, as a JSON string).
pub async fn admin(
    gateway: &RunningGateway,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{}/admin{path}", gateway.url()))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Makes a virtual key; its id and secret.
pub async fn make_key(gateway: &RunningGateway, body: Value) -> (String, String) {
    let (status, made) = admin(gateway, reqwest::Method::POST, "/virtual-keys", Some(body)).await;
    assert_eq!(status, 201, "{made}");
    (
        made["id"].as_str().unwrap().to_owned(),
        made["key"].as_str().unwrap().to_owned(),
    )
}

/// A Messages request for `model` with `credential` as `x-api-key`.
pub async fn messages(
    gateway: &RunningGateway,
    credential: &str,
    model: &str,
    stream: bool,
) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("x-api-key", credential)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": model,
            "max_tokens": 64,
            "stream": stream,
            "messages": [{"role": "user", "content": "Say hello"}],
        }))
        .send()
        .await
        .expect("gateway answers")
}

/// A Chat Completions request with `credential` as a bearer token.
pub async fn chat(gateway: &RunningGateway, credential: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .bearer_auth(credential)
        .json(&body)
        .send()
        .await
        .expect("gateway answers")
}

pub fn chat_body(model: &str, stream: bool) -> Value {
    let mut body = json!({
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello"}],
    });
    if stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

/// An OpenAI Chat completion reporting `usage`.
pub fn chat_completion(usage: Value) -> Value {
    json!({
        "id": "chatcmpl-team",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4.1",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "hello"},
            "finish_reason": "stop",
        }],
        "usage": usage,
    })
}

/// `prompt_tokens` input (cached ones included), `completion_tokens` output.
pub fn openai_usage(input: u64, output: u64, cached: u64) -> Value {
    json!({
        "prompt_tokens": input,
        "completion_tokens": output,
        "total_tokens": input + output,
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

/// An Anthropic message reporting `usage`.
pub fn anthropic_message(usage: Value) -> Value {
    json!({
        "id": "msg_01team",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": usage,
    })
}

/// The request log's newest entries.
pub async fn requests(gateway: &RunningGateway) -> Vec<Value> {
    let (status, log) = admin(gateway, reqwest::Method::GET, "/requests?limit=50", None).await;
    assert_eq!(status, 200);
    log["requests"].as_array().unwrap().clone()
}

/// The error type and message of an error body in Anthropic's, OpenAI's or
/// Gemini's shape.
pub fn error_of(body: &Value) -> (String, String) {
    let error = &body["error"];
    let kind = error["type"]
        .as_str()
        .or_else(|| error["status"].as_str())
        .unwrap_or_default();
    (
        kind.to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

/// `/metrics`, as text.
pub async fn metrics(gateway: &RunningGateway) -> String {
    client()
        .get(format!("{}/metrics", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

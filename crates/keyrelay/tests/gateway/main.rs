//! The gateway over real HTTP on 127.0.0.1: a keyrelay on a random port in
//! front of testkit fake upstreams scripted per key.

#![allow(clippy::unwrap_used)]

mod admin;
mod big_bodies;
mod exhaustion;
mod fallback;
mod hints;
mod input;
mod late_failures;
mod litellm;
mod passthrough;
mod pools;
mod proxy;
mod routing;
mod streams;
mod translated;
mod whole_bodies;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::{json, Value};

/// Obviously fake test keys.
pub const INVALID: &str = "test-key-invalid-000000000001";
pub const LIMITED: &str = "test-key-limited-000000000002";
pub const GOOD: &str = "test-key-good-00000000000003";
pub const LIMITED_TOO: &str = "test-key-limited-000000000004";

pub async fn start(env: &[(&str, &str)], config_toml: &str) -> RunningGateway {
    start_with(env, config_toml, Vec::new()).await
}

pub async fn start_with(
    env: &[(&str, &str)],
    config_toml: &str,
    aliases: Vec<(String, String)>,
) -> RunningGateway {
    let config = Config::from_toml(config_toml).expect("test config parses");
    let settings = ServeSettings {
        config,
        aliases,
        ..ServeSettings::default()
    };
    start_settings(env, &settings).await
}

pub async fn start_settings(env: &[(&str, &str)], settings: &ServeSettings) -> RunningGateway {
    let env = MapEnv::new(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    RunningGateway::start(settings, &env)
        .await
        .expect("gateway starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

pub fn message_request(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "Say hello"}],
    })
}

pub fn anthropic_message(text: &str) -> Value {
    json!({
        "id": "msg_01test",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 9, "output_tokens": 3},
    })
}

/// Posts an Anthropic Messages request to the gateway as a client would.
pub async fn post_messages(gateway: &RunningGateway, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("x-api-key", "client-own-credential")
        .header("anthropic-version", "2023-06-01")
        .json(body)
        .send()
        .await
        .expect("gateway answers")
}

pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub fn attempts(response: &reqwest::Response) -> u32 {
    header(response, "x-keyrelay-attempts").parse().unwrap_or(0)
}

/// Asserts an Anthropic-shape error body and returns its type and message.
pub async fn anthropic_error(response: reqwest::Response) -> (String, String) {
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["type"], "error", "{body}");
    (
        body["error"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// The fingerprint keyrelay shows for a test key.
pub fn fingerprint(key: &str) -> String {
    keypool::ApiKey::new(key, None).fingerprint().to_string()
}

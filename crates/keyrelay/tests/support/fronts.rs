//! What the client-API test binaries (`chat`, `responses`, `gemini_front`)
//! share: test keys, a keyrelay on 127.0.0.1, a client that never uses a
//! proxy, Gemini's real 429, and readers of the `x-keyrelay-*` headers and
//! OpenAI's error shape.

// Each test crate uses its own part of this module.
#![allow(dead_code)]

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::Value;

/// Gemini's real rate-limit answer (`RESOURCE_EXHAUSTED`).
pub fn gemini_429() -> testkit::Reply {
    testkit::Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json")
}

/// Obviously fake test keys.
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

/// The fingerprint keyrelay shows for a test key.
pub fn fingerprint(key: &str) -> String {
    keypool::ApiKey::new(key, None).fingerprint().to_string()
}

/// The fingerprint as the `x-keyrelay-key` header writes it (ASCII).
pub fn key_header(key: &str) -> String {
    fingerprint(key).replace('…', "...")
}

/// Asserts OpenAI's error shape (`{"error": {message, type, param, code}}`,
/// nothing else at the top) and returns the error object.
pub async fn openai_error(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.expect("error body is JSON");
    let top: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(top, ["error"], "{body}");
    let error = &body["error"];
    assert!(error["message"].is_string(), "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert!(
        error.get("param").is_some() && error.get("code").is_some(),
        "{body}"
    );
    error.clone()
}

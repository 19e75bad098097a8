//! The dashboard (`/ui`) in a real headless Chromium, driven over WebDriver,
//! against a keyrelay running in this process in front of testkit fake
//! upstreams. Every server listens on 127.0.0.1 on a random port and ends
//! with its test. Without Chromium and chromedriver these tests fail and
//! say what to install.

#![allow(clippy::unwrap_used)]

mod actions;
mod browser;
mod finding;
mod pools;
mod screenshots;
mod secrets;
mod serving;
mod signin;
mod team;

use std::path::PathBuf;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

pub use browser::{Browser, PAGE_WAIT};

pub const ADMIN: &str = "admin-token-for-ui-tests";
/// Obviously fake keys; every one starts with `test-key-`, which nothing
/// the page shows or receives may contain.
pub const FIRST: &str = "test-key-ui-first-000000000001";
pub const SECOND: &str = "test-key-ui-second-00000000002";
pub const THIRD: &str = "test-key-ui-third-000000000003";
pub const ADDED: &str = "test-key-ui-added-000000000009";
pub const ANOTHER: &str = "test-key-ui-another-0000000010";

pub const DESKTOP: (u32, u32) = (1280, 1000);
pub const PHONE: (u32, u32) = (375, 812);

/// A keyrelay with the admin token, in front of `upstream` for Anthropic
/// with `keys` (comma separated).
pub async fn gateway(upstream: &FakeUpstream, keys: &str) -> RunningGateway {
    gateway_with(
        upstream,
        keys,
        &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n"),
    )
    .await
}

pub async fn gateway_with(upstream: &FakeUpstream, keys: &str, config: &str) -> RunningGateway {
    let base = upstream.base_url();
    start(
        &[
            ("ANTHROPIC_API_KEYS", keys),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &base),
        ],
        config,
    )
    .await
}

/// A keyrelay with `env` as its environment and `config` (TOML), key
/// state in memory.
pub async fn start(env: &[(&str, &str)], config: &str) -> RunningGateway {
    let config = format!("{config}\n[state]\nstore = \"memory\"\n");
    let settings = ServeSettings {
        config: Config::from_toml(&config).expect("test config parses"),
        ..ServeSettings::default()
    };
    let env = MapEnv::new(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    RunningGateway::start(&settings, &env)
        .await
        .expect("gateway starts")
}

/// A browser on the dashboard, signed in with the admin token, the key
/// pools shown.
pub async fn signed_in(gateway: &RunningGateway, (width, height): (u32, u32)) -> Browser {
    let browser = Browser::launch(width, height).await;
    browser.goto(&format!("{}/ui", gateway.url())).await;
    browser.wait_shown("#token").await;
    browser.type_into("#token", ADMIN).await;
    browser.click("#signin-button").await;
    browser.wait_shown("#dashboard").await;
    browser
        .wait_for_texts("the key pools", ".key .fp", |fps| {
            (!fps.is_empty()).then_some(())
        })
        .await;
    browser
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
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

pub fn served(text: &str) -> Reply {
    Reply::json(200, anthropic_message(text))
}

pub fn rate_limited(retry_after_s: u32) -> Reply {
    Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
        .header("retry-after", &retry_after_s.to_string())
}

/// Sends an Anthropic Messages request as a client would; returns the
/// status and the fingerprint of the key that served (`x-keyrelay-key`,
/// whose `...` stands for the `…` a header cannot hold).
pub async fn send_message(gateway: &RunningGateway) -> (u16, String) {
    let response = client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("x-api-key", "client-own-credential")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello"}],
        }))
        .send()
        .await
        .expect("gateway answers");
    let key = response
        .headers()
        .get("x-keyrelay-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .replace("...", "…");
    (response.status().as_u16(), key)
}

/// The fingerprint keyrelay shows for a test key.
pub fn fingerprint(key: &str) -> String {
    keypool::ApiKey::new(key, None).fingerprint().to_string()
}

/// The CSS selector of the card of the key shown as `fingerprint`.
pub async fn card_of(browser: &Browser, fingerprint: &str) -> String {
    let id = browser
        .js(
            "const card = [...document.querySelectorAll('.key')].find((c) => c.querySelector('.fp').textContent === arguments[0]); return card ? card.dataset.id : null;",
            vec![json!(fingerprint)],
        )
        .await;
    let id = id
        .as_str()
        .unwrap_or_else(|| panic!("no card for {fingerprint}"));
    format!(".key[data-id=\"{id}\"]")
}

/// Where the test run leaves its screenshots: `target/ui/`.
pub fn screenshot_dir() -> PathBuf {
    // The test binary is target/<profile>/deps/ui-…
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary lives under target/")
        .to_path_buf();
    target.join("ui")
}

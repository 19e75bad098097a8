//! Fault injection over real HTTP on 127.0.0.1: upstreams and clients that
//! misbehave, and the gateway's limits. Every case checks that the client
//! gets a well-formed answer in its own API shape (or a clean stream end),
//! that a client alongside is not disturbed, and that the gateway still
//! serves afterwards.

#![allow(clippy::unwrap_used)]

mod clients;
mod hostile_admin;
mod hostile_clients;
mod hostile_config;
mod hostile_headers;
mod hostile_paths;
mod limits;
mod secrets;
#[path = "../support/served.rs"]
mod served;
mod upstream;

use std::future::Future;
use std::time::Duration;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

/// Obviously fake keys, one provider each.
pub const ANTHROPIC: &str = "test-key-anthropic-00000000001";
pub const OPENAI: &str = "test-key-openai-0000000000002";
pub const GEMINI: &str = "test-key-gemini-0000000000003";
/// The key of `steady`, the provider the bystander uses.
pub const STEADY: &str = "test-key-steady-0000000000004";

/// Tests that measure this process's memory run one at a time.
pub static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fake upstream and a gateway in front of it: `anthropic`, `openai` and
/// `gemini` with one key each, and `steady` (Anthropic dialect), whose key
/// always answers well, for the client alongside.
pub struct Rig {
    pub upstream: FakeUpstream,
    pub gateway: RunningGateway,
}

impl Rig {
    /// `toml` comes before the `steady` provider's section.
    pub async fn start(toml: &str) -> Rig {
        Rig::start_with(toml, &[]).await
    }

    /// With `env` over the default variables (other keys, say).
    pub async fn start_with(toml: &str, env: &[(&str, &str)]) -> Rig {
        let upstream = FakeUpstream::start().await;
        upstream.on_key_with(STEADY, |request| {
            let streamed = request
                .json()
                .ok()
                .is_some_and(|body| body["stream"] == json!(true));
            if streamed {
                Reply::anthropic_stream("steady as she goes").chunk_delay(Duration::from_millis(20))
            } else {
                Reply::anthropic_message("steady")
            }
        });
        let base = upstream.base_url();
        let toml = format!(
            "{toml}\n[providers.steady]\ndialect = \"anthropic\"\nbase_url = \"{base}\"\nauth = \"x-api-key\"\nkeys = [\"{STEADY}\"]\n"
        );
        let config = Config::from_toml(&toml).expect("test config parses");
        let mut variables = MapEnv::new([
            ("ANTHROPIC_API_KEYS", ANTHROPIC),
            ("ANTHROPIC_UPSTREAM_BASE_URL", base.as_str()),
            ("OPENAI_API_KEYS", OPENAI),
            ("OPENAI_BASE_URL", base.as_str()),
            ("GEMINI_API_KEYS", GEMINI),
            ("GEMINI_BASE_URL", base.as_str()),
        ]);
        for (name, value) in env {
            variables.set(*name, *value);
        }
        let settings = ServeSettings {
            config,
            ..ServeSettings::default()
        };
        let gateway = RunningGateway::start(&settings, &variables)
            .await
            .expect("gateway starts");
        Rig { upstream, gateway }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.url())
    }

    /// A POST of `body` to `path`, as a client sends it.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        client()
            .post(self.url(path))
            .header("anthropic-version", "2023-06-01")
            .json(body)
            .send()
            .await
            .expect("the gateway answers")
    }

    /// A well-behaved client: a whole and a streamed request to `steady`,
    /// both served in full. The stream takes a while, so it overlaps
    /// whatever runs alongside.
    pub async fn bystander(&self) {
        let whole = self
            .post(
                "/v1/messages",
                &message_request("steady@claude-sonnet-4-5", false),
            )
            .await;
        assert_eq!(whole.status(), 200, "a client alongside was disturbed");
        let message: Value = whole.json().await.expect("a whole message");
        assert_eq!(message["content"][0]["text"], "steady");
        let streamed = self
            .post(
                "/v1/messages",
                &message_request("steady@claude-sonnet-4-5", true),
            )
            .await;
        assert_eq!(
            streamed.status(),
            200,
            "a streaming client alongside was disturbed"
        );
        let body = streamed.text().await.expect("the stream ends cleanly");
        assert_eq!(
            events(&body).last().map(String::as_str),
            Some("message_stop"),
            "{body}"
        );
    }

    /// Runs `fault` with a well-behaved client alongside, then checks that
    /// the gateway still serves.
    pub async fn alongside<T>(&self, fault: impl Future<Output = T>) -> T {
        let (outcome, ()) = tokio::join!(fault, self.bystander());
        self.bystander().await;
        outcome
    }
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

pub fn chat_request(stream: bool) -> Value {
    json!({"model": "gpt-4.1", "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

/// The `event:` names of an SSE body, in order.
pub fn events(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .map(str::to_owned)
        .collect()
}

/// Asserts `status` and an Anthropic error body; returns its type and message.
pub async fn anthropic_error(response: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("the error is JSON");
    assert_eq!(body["type"], "error", "{body}");
    let kind = body["error"]["type"]
        .as_str()
        .expect("error.type")
        .to_owned();
    let message = body["error"]["message"].as_str().expect("error.message");
    (kind, message.to_owned())
}

/// Asserts `status` and an OpenAI error body; returns its type and message.
pub async fn openai_error(response: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("the error is JSON");
    let error = &body["error"];
    assert!(
        error.get("param").is_some() && error.get("code").is_some(),
        "{body}"
    );
    let kind = error["type"].as_str().expect("error.type").to_owned();
    let message = error["message"].as_str().expect("error.message");
    (kind, message.to_owned())
}

/// Asserts `status` and a Google error body; returns its status name and message.
pub async fn gemini_error(response: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("the error is JSON");
    let error = &body["error"];
    assert_eq!(error["code"], status, "{body}");
    let name = error["status"].as_str().expect("error.status").to_owned();
    let message = error["message"].as_str().expect("error.message");
    (name, message.to_owned())
}

/// The growth of this process's resident memory at its peak since the
/// watch started (the gateway runs in this process).
pub struct MemoryWatch {
    start_kib: u64,
}

impl MemoryWatch {
    /// Resets the kernel's peak (`VmHWM`) to what is resident now.
    pub fn start() -> MemoryWatch {
        std::fs::write("/proc/self/clear_refs", "5").expect("resetting VmHWM");
        MemoryWatch {
            start_kib: status_kib("VmRSS:"),
        }
    }

    /// How far the peak rose above the start, in MiB.
    pub fn peak_growth_mib(&self) -> u64 {
        status_kib("VmHWM:").saturating_sub(self.start_kib) / 1024
    }
}

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

//! Real clients end to end: the real Claude Code, Codex and Gemini CLIs
//! (headless) and the
//! official Anthropic and OpenAI Python SDKs (Chat Completions and
//! Responses), through keyrelay, against fake upstreams.
//!
//! `scripts/e2e-setup` (run by `scripts/test`) installs both under
//! `target/e2e/`; without them these tests fail and say how to install them.

#![allow(clippy::unwrap_used)]

mod anthropic_sdk;
mod claude_code;
mod cli_launchers;
mod continued_streams;
mod conversation;
mod launcher;
mod openai_sdk;
mod responses_sdk;
mod responses_turn;

use std::path::PathBuf;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};

/// `target/e2e` at the workspace root.
pub fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e")
}

fn require(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} is not installed at {}: run `scripts/e2e-setup` (scripts/test runs it for you)",
        path.display()
    );
    path
}

/// The native Claude Code binary from the pinned npm package.
pub fn claude_bin() -> PathBuf {
    require(
        e2e_dir().join("node_modules/@anthropic-ai/claude-code-linux-x64/claude"),
        "the Claude Code CLI (@anthropic-ai/claude-code)",
    )
}

/// A Python with the `anthropic` and `openai` SDKs installed.
pub fn sdk_python() -> PathBuf {
    require(
        e2e_dir().join("venv/bin/python"),
        "the Anthropic and OpenAI Python SDKs (venv)",
    )
}

/// Runs the Python SDK check `script` (in tests/real_clients/) against
/// keyrelay at `base_url` with `model`, and returns the JSON report it prints.
/// `sdk` names the SDK for the failure message; `extra` goes after the
/// model on the script's command line.
pub async fn run_sdk_check(
    script: &str,
    sdk: &str,
    base_url: &str,
    model: &str,
    extra: &[&str],
) -> serde_json::Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/real_clients")
        .join(script);
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(sdk_python())
            .arg(script)
            .args([base_url, model])
            .args(extra)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the SDK check finishes within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{sdk} check failed for {model} (a missing module means: run scripts/e2e-setup):\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

/// One Python SDK check: its script, the SDK's name for failure messages,
/// and its two keys (the first rate-limited).
pub struct SdkCheck {
    pub script: &'static str,
    pub sdk: &'static str,
    pub limited: &'static str,
    pub good: &'static str,
    /// The script also asks for the alias `fast`, routed to the model.
    pub fast_alias: bool,
    /// Upstream requests the good key serves at least (the script's calls).
    pub min_good_hits: usize,
    /// The script takes `native` for a model OpenAI serves itself (which
    /// then goes through untranslated).
    pub knows_native: bool,
}

impl SdkCheck {
    /// Runs the check against a fake upstream (its keys in `keys_var`, its
    /// URL in `base_var`) whose first key answers `limited` and whose second
    /// answers as `turn` scripts: the SDK's tool round trips, whole and
    /// streamed, must read the tool's answer, and the limited key be tried
    /// once. Returns the upstream for further checks.
    pub async fn against(
        &self,
        keys_var: &str,
        base_var: &str,
        model: &str,
        limited: testkit::Reply,
        turn: fn(&testkit::Recorded, &str) -> testkit::Reply,
    ) -> testkit::FakeUpstream {
        let upstream = testkit::FakeUpstream::start().await;
        upstream.on_key(self.limited, [limited]);
        upstream.on_key_with(self.good, move |request| turn(request, "/dev/null"));
        let aliases: &[(&str, &str)] = if self.fast_alias {
            &[("fast", model)]
        } else {
            &[]
        };
        let gateway = gateway(
            &[
                (keys_var, format!("{},{}", self.limited, self.good)),
                (base_var, upstream.base_url()),
            ],
            aliases,
        )
        .await;
        let native: &[&str] = if self.knows_native && model.starts_with("openai@") {
            &["native"]
        } else {
            &[]
        };
        let report = run_sdk_check(self.script, self.sdk, &gateway.url(), model, native).await;
        for turn in ["tool_whole", "tool_stream"] {
            assert!(report[turn].as_str().unwrap().contains("sunny"), "{report}");
        }
        assert_eq!(
            upstream.hits(self.limited),
            1,
            "the rate-limited key was tried once and then left to cool"
        );
        assert!(upstream.hits(self.good) >= self.min_good_hits);
        upstream
    }
}

pub async fn gateway(env: &[(&str, String)], aliases: &[(&str, &str)]) -> RunningGateway {
    // Sticky order, so a test knows which key a request meets first: real
    // clients name a session, which affinity would place on any key.
    let mut config = Config::default();
    config.pool.session_affinity = false;
    let settings = ServeSettings {
        config,
        aliases: aliases
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
        ..ServeSettings::default()
    };
    let env = MapEnv::new(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
    RunningGateway::start(&settings, &env).await.unwrap()
}

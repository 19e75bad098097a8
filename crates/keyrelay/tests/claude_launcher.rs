//! `keyrelay claude` against a stand-in `claude` script that records its
//! arguments, environment and stdin, and calls the gateway like Claude Code.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use testkit::{eventually, FakeUpstream, Reply};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const LIMITED: &str = "test-key-launch-limited-0001";
const GOOD: &str = "test-key-launch-good-0000002";

const STAND_IN: &str = r#"#!/usr/bin/env bash
set -euo pipefail
if [ -n "${STAND_IN_WAIT:-}" ]; then
  trap 'kill "$sleeper"; echo terminated > "$RECORD_DIR/signal"; exit 143' TERM
  sleep 30 &
  sleeper=$!
  touch "$RECORD_DIR/waiting"
  wait "$sleeper"
  exit 0
fi
printf '%s\n' "$@" > "$RECORD_DIR/args"
env > "$RECORD_DIR/env"
IFS= read -r line || true
printf '%s' "$line" > "$RECORD_DIR/stdin"
python3 - > "$RECORD_DIR/response" <<'PY'
import json, os, urllib.request
body = {"model": os.environ["ANTHROPIC_MODEL"], "max_tokens": 32, "messages": [{"role": "user", "content": "hi"}]}
request = urllib.request.Request(
    os.environ["ANTHROPIC_BASE_URL"] + "/v1/messages",
    data=json.dumps(body).encode(),
    headers={"authorization": "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"], "content-type": "application/json", "anthropic-version": "2023-06-01"},
)
with urllib.request.urlopen(request) as response:
    print(json.dumps({"status": response.status, "attempts": response.headers["x-keyrelay-attempts"], "body": json.loads(response.read())}))
PY
echo "stand-in claude done"
exit "${STAND_IN_EXIT:-0}"
"#;

struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir =
            std::env::temp_dir().join(format!("keyrelay-launch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let script = dir.join("bin/claude");
        std::fs::write(&script, STAND_IN).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        Sandbox { dir }
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn bin(&self) -> PathBuf {
        self.dir.join("bin")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn keyrelay(sandbox: &Sandbox, path: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyrelay"));
    command
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                path.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", &sandbox.dir)
        .env("RECORD_DIR", &sandbox.dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

#[tokio::test]
async fn launches_claude_against_the_gateway_and_returns_its_exit_code() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/anthropic_rate_limit.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello from upstream")]);
    let sandbox = Sandbox::new("ok");
    let mut child = keyrelay(&sandbox, &sandbox.bin())
        .args([
            "claude",
            "--model",
            "anthropic@claude-sonnet-4-5",
            "--haiku",
            "a/claude-haiku-4-5",
            "--",
        ])
        .args(["-p", "do the thing", "--output-format", "json"])
        .env("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}"))
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
        .env("ANTHROPIC_API_KEY", "users-own-anthropic-credential")
        .env("STAND_IN_EXIT", "7")
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"typed by the user\n")
        .await
        .unwrap();
    let output = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(7),
        "claude's exit code: {stderr}"
    );
    assert_eq!(
        stdout.trim(),
        "stand-in claude done",
        "only claude's output reaches the terminal"
    );
    assert!(stderr.is_empty(), "quiet by default: {stderr}");

    assert_eq!(
        sandbox.read("args"),
        "-p\ndo the thing\n--output-format\njson\n"
    );
    assert_eq!(sandbox.read("stdin"), "typed by the user");
    let env = sandbox.read("env");
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    assert!(var("ANTHROPIC_BASE_URL")
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(var("ANTHROPIC_AUTH_TOKEN")
        .unwrap()
        .starts_with("keyrelay-run-"));
    assert_eq!(
        var("ANTHROPIC_API_KEY"),
        None,
        "the user's own key is not passed on"
    );
    assert_eq!(
        var("ANTHROPIC_MODEL").as_deref(),
        Some("anthropic@claude-sonnet-4-5")
    );
    assert_eq!(
        var("ANTHROPIC_DEFAULT_OPUS_MODEL").as_deref(),
        Some("anthropic@claude-sonnet-4-5")
    );
    assert_eq!(
        var("ANTHROPIC_DEFAULT_SONNET_MODEL").as_deref(),
        Some("anthropic@claude-sonnet-4-5")
    );
    assert_eq!(
        var("ANTHROPIC_DEFAULT_HAIKU_MODEL").as_deref(),
        Some("a/claude-haiku-4-5")
    );
    assert_eq!(
        var("CLAUDE_CODE_SUBAGENT_MODEL").as_deref(),
        Some("anthropic@claude-sonnet-4-5")
    );

    let response: serde_json::Value =
        serde_json::from_str(sandbox.read("response").trim()).unwrap();
    assert_eq!(response["status"], 200);
    assert_eq!(response["attempts"], "2");
    assert_eq!(
        response["body"]["content"][0]["text"],
        "hello from upstream"
    );
    let sent = upstream.requests();
    assert_eq!(sent.last().unwrap().header("x-api-key"), Some(GOOD));
    assert_eq!(
        sent.last().unwrap().json().unwrap()["model"],
        "claude-sonnet-4-5"
    );
    assert!(sent.iter().all(|r| r.header("authorization").is_none()));
}

#[tokio::test]
async fn verbose_mode_writes_gateway_logs_to_a_file_and_prints_its_path() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_message("hi")]);
    let sandbox = Sandbox::new("verbose");
    let output = keyrelay(&sandbox, &sandbox.bin())
        .args(["claude", "-v", "--model", "a/claude-sonnet-4-5"])
        .env("ANTHROPIC_API_KEYS", GOOD)
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
        .env("XDG_STATE_HOME", sandbox.dir.join("state"))
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("keyrelay: gateway log: "))
        .expect("log path printed");
    assert!(
        path.starts_with(
            &sandbox
                .dir
                .join("state/keyrelay/logs")
                .display()
                .to_string()
        ),
        "{path}"
    );
    let log = std::fs::read_to_string(path).unwrap();
    assert!(log.contains("gateway for Claude Code started"), "{log}");
    assert!(!log.contains(GOOD), "no key in the log");
}

async fn preflight_error(args: &[&str], env: &[(&str, &str)], with_claude: bool) -> String {
    let sandbox = Sandbox::new(&format!("pre{}", args.len() + env.len()));
    let path = if with_claude {
        sandbox.bin()
    } else {
        sandbox.dir.join("empty")
    };
    let mut command = keyrelay(&sandbox, &path);
    command.env("PATH", path).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !sandbox.dir.join("args").exists(),
        "claude was not launched"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn without_a_key_it_fails_before_launch_naming_the_variable() {
    let message = preflight_error(&["claude", "--model", "openai@gpt-4.1"], &[], true).await;
    assert!(message.contains("OPENAI_API_KEY"), "{message}");
}

#[tokio::test]
async fn without_claude_it_says_how_to_install_it() {
    let message = preflight_error(
        &["claude", "--model", "a/claude-sonnet-4-5"],
        &[("ANTHROPIC_API_KEYS", GOOD)],
        false,
    )
    .await;
    assert!(
        message.contains("npm install -g @anthropic-ai/claude-code"),
        "{message}"
    );
}

#[tokio::test]
async fn a_bad_model_lists_providers_with_examples() {
    let message = preflight_error(&["claude", "--model", "nosuch@model"], &[], true).await;
    assert!(
        message.contains("unknown provider `nosuch`")
            && message.contains("gemini@gemini-2.5-flash"),
        "{message}"
    );
    assert!(message.contains("openrouter"), "{message}");
    let message = preflight_error(&["claude", "--model", "llama3"], &[], true).await;
    assert!(message.contains("PROVIDER@MODEL"), "{message}");
}

#[tokio::test]
async fn sigterm_to_keyrelay_reaches_claude_and_its_exit_code_comes_back() {
    let upstream = FakeUpstream::start().await;
    let sandbox = Sandbox::new("signal");
    let child = keyrelay(&sandbox, &sandbox.bin())
        .args(["claude", "--model", "a/claude-sonnet-4-5"])
        .env("ANTHROPIC_API_KEYS", GOOD)
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
        .env("STAND_IN_WAIT", "1")
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    let waiting = sandbox.dir.join("waiting");
    eventually("claude to start", Duration::from_secs(20), || {
        waiting.exists()
    })
    .await;
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().await.unwrap();
    assert_eq!(
        output.status.code(),
        Some(143),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sandbox.read("signal").trim(), "terminated");
}

/// A proxy in the user's environment cannot reach this machine's loopback:
/// Claude Code must reach the gateway directly, while upstream requests
/// still follow the user's own `NO_PROXY`.
#[tokio::test]
async fn claude_reaches_the_gateway_directly_when_the_environment_names_a_proxy() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_message("hello past the proxy")]);
    // Nothing listens on the discard port: a request sent to this proxy fails.
    let dead_proxy = "http://127.0.0.1:9";
    let upstream_by_name = upstream.base_url().replace("127.0.0.1", "localhost");
    let sandbox = Sandbox::new("proxy");
    let output = keyrelay(&sandbox, &sandbox.bin())
        .args(["claude", "--model", "anthropic@claude-sonnet-4-5"])
        .env("ANTHROPIC_API_KEYS", GOOD)
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream_by_name)
        .env("HTTP_PROXY", dead_proxy)
        .env("http_proxy", dead_proxy)
        .env("NO_PROXY", "localhost")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let env = sandbox.read("env");
    let no_proxy = env
        .lines()
        .find_map(|l| l.strip_prefix("NO_PROXY="))
        .unwrap_or_default();
    assert_eq!(no_proxy, "localhost,127.0.0.1");
    let response: serde_json::Value =
        serde_json::from_str(sandbox.read("response").trim()).unwrap();
    assert_eq!(response["status"], 200);
    assert_eq!(
        response["body"]["content"][0]["text"],
        "hello past the proxy"
    );
}

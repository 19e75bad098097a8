//! `keyrelay codex` and `keyrelay gemini` against a stand-in CLI that records
//! its arguments and environment and makes one request to the gateway the
//! way the real CLI does (Codex: `/v1/responses` with the token from its
//! provider's `env_key`; Gemini CLI: `generateContent` with `x-goog-api-key`).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use testkit::{eventually, FakeUpstream, Reply};
use tokio::process::Command;

const LIMITED: &str = "test-key-launch-limited-0001";
const GOOD: &str = "test-key-launch-good-0000002";

/// Codex or Gemini CLI, told apart by the name it was called by.
const STAND_IN: &str = r#"#!/usr/bin/env python3
import json, os, re, signal, sys, time, urllib.request
record = os.environ["RECORD_DIR"]
if os.environ.get("STAND_IN_WAIT"):
    def on_term(*_):
        open(os.path.join(record, "signal"), "w").write("terminated")
        sys.exit(143)
    signal.signal(signal.SIGTERM, on_term)
    open(os.path.join(record, "waiting"), "w").close()
    time.sleep(30)
    sys.exit(0)
args = sys.argv[1:]
open(os.path.join(record, "args"), "w").write("\n".join(args) + "\n")
open(os.path.join(record, "env"), "w").write("".join(f"{k}={v}\n" for k, v in os.environ.items()))
if os.path.basename(sys.argv[0]) == "codex":
    config = dict(args[i + 1].split("=", 1) for i in range(len(args) - 1) if args[i] == "-c")
    toml = lambda key: json.loads(config[key])
    base = toml("model_providers.keyrelay.base_url")
    token = os.environ[toml("model_providers.keyrelay.env_key")]
    body = {"model": toml("model"), "input": "hi", "stream": False}
    request = urllib.request.Request(base + "/responses", data=json.dumps(body).encode(),
        headers={"authorization": "Bearer " + token, "content-type": "application/json"})
else:
    open(os.path.join(record, "settings"), "w").write(open(os.environ["GEMINI_CLI_SYSTEM_SETTINGS_PATH"]).read())
    model = args[args.index("-m") + 1]
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    request = urllib.request.Request(
        os.environ["GOOGLE_GEMINI_BASE_URL"] + "/v1beta/models/" + model + ":generateContent",
        data=json.dumps(body).encode(),
        headers={"x-goog-api-key": os.environ["GEMINI_API_KEY"], "content-type": "application/json"})
with urllib.request.urlopen(request) as response:
    answer = {"status": response.status, "attempts": response.headers["x-keyrelay-attempts"], "body": json.loads(response.read())}
open(os.path.join(record, "response"), "w").write(json.dumps(answer))
print("stand-in done")
sys.exit(int(os.environ.get("STAND_IN_EXIT", "0")))
"#;

struct Sandbox {
    dir: PathBuf,
}

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("keyrelay-cg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        for cli in ["codex", "gemini"] {
            let script = dir.join("bin").join(cli);
            std::fs::write(&script, STAND_IN).unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Sandbox { dir }
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    fn var(&self, name: &str) -> Option<String> {
        self.read("env")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    }

    fn response(&self) -> Value {
        serde_json::from_str(&self.read("response")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn keyrelay(&self, with_clis: bool) -> Command {
        let path = if with_clis {
            self.dir.join("bin")
        } else {
            self.dir.join("empty")
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_keyrelay"));
        command
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", path.display()))
            .env("HOME", &self.dir)
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .env("RECORD_DIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn anthropic_upstream() -> FakeUpstream {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/anthropic_rate_limit.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello from upstream")]);
    upstream
}

fn on_anthropic<'a>(command: &'a mut Command, upstream: &FakeUpstream) -> &'a mut Command {
    command
        .env("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}"))
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
}

#[tokio::test]
async fn codex_gets_a_keyrelay_provider_and_its_token_works_on_responses() {
    let upstream = anthropic_upstream().await;
    let sandbox = Sandbox::new("codex");
    let output = on_anthropic(&mut sandbox.keyrelay(true), &upstream)
        .args(["codex", "--model", "anthropic@claude-sonnet-4-5", "--"])
        .args(["exec", "--skip-git-repo-check", "do the thing"])
        .env("OPENAI_API_KEY", "users-own-openai-credential")
        .env("STAND_IN_EXIT", "7")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(7), "codex's exit code: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "stand-in done"
    );
    assert!(stderr.is_empty(), "quiet by default: {stderr}");

    let args: Vec<String> = sandbox.read("args").lines().map(str::to_owned).collect();
    let overrides: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "-c")
        .map(|w| w[1].as_str())
        .collect();
    for expected in [
        "model_provider=\"keyrelay\"",
        "model=\"anthropic@claude-sonnet-4-5\"",
        "model_providers.keyrelay.wire_api=\"responses\"",
        "model_providers.keyrelay.env_key=\"KEYRELAY_RUN_TOKEN\"",
        "check_for_update_on_startup=false",
        "analytics.enabled=false",
        "feedback.enabled=false",
    ] {
        assert!(overrides.contains(&expected), "{expected} in {overrides:?}");
    }
    assert!(
        overrides.iter().any(|o| o
            .starts_with("model_providers.keyrelay.base_url=\"http://127.0.0.1:")
            && o.ends_with("/v1\"")),
        "{overrides:?}"
    );
    assert_eq!(
        args[args.len() - 3..],
        ["exec", "--skip-git-repo-check", "do the thing"],
        "the user's arguments come last, unchanged"
    );
    assert!(sandbox
        .var("KEYRELAY_RUN_TOKEN")
        .unwrap()
        .starts_with("keyrelay-run-"));
    assert_eq!(
        sandbox.var("OPENAI_API_KEY"),
        None,
        "the user's key stays out"
    );
    assert_eq!(
        sandbox.var("NO_PROXY").as_deref(),
        Some("127.0.0.1,localhost")
    );

    let response = sandbox.response();
    assert_eq!(response["status"], 200);
    assert_eq!(response["attempts"], "2");
    assert_eq!(
        response["body"]["output"][0]["content"][0]["text"], "hello from upstream",
        "{response}"
    );
    let sent = upstream.requests();
    assert_eq!(sent.last().unwrap().header("x-api-key"), Some(GOOD));
    assert_eq!(
        sent.last().unwrap().json().unwrap()["model"],
        "claude-sonnet-4-5"
    );
}

#[tokio::test]
async fn gemini_cli_gets_api_key_auth_on_the_gateway_and_vendor_traffic_off() {
    let upstream = anthropic_upstream().await;
    let sandbox = Sandbox::new("gemini");
    let output = on_anthropic(&mut sandbox.keyrelay(true), &upstream)
        .args(["gemini", "--model", "anthropic@claude-sonnet-4-5", "--"])
        .args(["-p", "do the thing"])
        .env("GOOGLE_API_KEY", "users-own-google-credential")
        .env("GEMINI_API_KEY", "users-own-gemini-credential")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    assert_eq!(
        sandbox.read("args"),
        "-m\nanthropic@claude-sonnet-4-5\n-p\ndo the thing\n"
    );
    assert!(sandbox
        .var("GOOGLE_GEMINI_BASE_URL")
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert!(sandbox
        .var("GEMINI_API_KEY")
        .unwrap()
        .starts_with("keyrelay-run-"));
    assert_eq!(sandbox.var("GOOGLE_API_KEY"), None);
    assert_eq!(
        sandbox.var("GEMINI_TELEMETRY_ENABLED").as_deref(),
        Some("false")
    );
    let settings: Value = serde_json::from_str(&sandbox.read("settings")).unwrap();
    assert_eq!(
        settings["security"]["auth"]["selectedType"],
        "gemini-api-key"
    );
    assert_eq!(settings["privacy"]["usageStatisticsEnabled"], false);
    assert_eq!(settings["general"]["enableAutoUpdate"], false);
    assert_eq!(settings["telemetry"]["enabled"], false);
    let settings_path = sandbox.var("GEMINI_CLI_SYSTEM_SETTINGS_PATH").unwrap();
    assert!(
        !std::path::Path::new(&settings_path).exists(),
        "the run's settings are removed when it ends"
    );

    let response = sandbox.response();
    assert_eq!(response["status"], 200);
    assert_eq!(response["attempts"], "2");
    assert_eq!(
        response["body"]["candidates"][0]["content"]["parts"][0]["text"], "hello from upstream",
        "{response}"
    );
    assert_eq!(
        upstream.requests().last().unwrap().header("x-api-key"),
        Some(GOOD)
    );
}

#[tokio::test]
async fn verbose_codex_prints_the_log_path_and_the_dashboard() {
    let upstream = anthropic_upstream().await;
    let sandbox = Sandbox::new("verbose");
    let output = on_anthropic(&mut sandbox.keyrelay(true), &upstream)
        .args(["codex", "-v", "--model", "a/claude-sonnet-4-5"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let path = stderr
        .lines()
        .find_map(|l| l.strip_prefix("keyrelay: gateway log: "))
        .expect("log path printed");
    assert!(path.contains("state/keyrelay/logs/codex-"), "{path}");
    assert!(
        stderr.contains("keyrelay: dashboard: http://127.0.0.1:"),
        "{stderr}"
    );
    let log = std::fs::read_to_string(path).unwrap();
    assert!(log.contains("gateway for Codex CLI started"), "{log}");
    assert!(!log.contains(GOOD), "no key in the log");
}

async fn preflight_error(args: &[&str], env: &[(&str, &str)], with_clis: bool) -> String {
    let sandbox = Sandbox::new(&format!("pre{}{}", args[0], env.len()));
    let mut command = sandbox.keyrelay(with_clis);
    command.args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().await.unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !sandbox.dir.join("args").exists(),
        "the CLI was not launched"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn without_the_cli_it_says_how_to_install_it() {
    let key = [("ANTHROPIC_API_KEYS", GOOD)];
    let codex = preflight_error(&["codex", "--model", "a/claude-sonnet-4-5"], &key, false).await;
    assert!(
        codex.contains("npm install -g @openai/codex") && codex.contains("--codex-bin"),
        "{codex}"
    );
    let gemini = preflight_error(&["gemini", "--model", "a/claude-sonnet-4-5"], &key, false).await;
    assert!(
        gemini.contains("npm install -g @google/gemini-cli") && gemini.contains("--gemini-bin"),
        "{gemini}"
    );
}

#[tokio::test]
async fn without_a_key_or_with_a_bad_model_it_fails_before_launch() {
    let codex = preflight_error(&["codex", "--model", "openai@gpt-4.1"], &[], true).await;
    assert!(codex.contains("OPENAI_API_KEY"), "{codex}");
    let gemini = preflight_error(&["gemini", "--model", "nosuch@model"], &[], true).await;
    assert!(
        gemini.contains("unknown provider `nosuch`")
            && gemini.contains("keyrelay gemini --model gemini@gemini-2.5-flash"),
        "{gemini}"
    );
}

#[tokio::test]
async fn sigterm_reaches_codex_and_gemini_and_their_exit_code_comes_back() {
    let upstream = FakeUpstream::start().await;
    for cli in ["codex", "gemini"] {
        let sandbox = Sandbox::new(&format!("signal-{cli}"));
        let child = sandbox
            .keyrelay(true)
            .args([cli, "--model", "a/claude-sonnet-4-5"])
            .env("ANTHROPIC_API_KEYS", GOOD)
            .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
            .env("STAND_IN_WAIT", "1")
            .spawn()
            .unwrap();
        let pid = child.id().unwrap().to_string();
        let waiting = sandbox.dir.join("waiting");
        eventually("the CLI to start", Duration::from_secs(20), || {
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
            "{cli}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(sandbox.read("signal"), "terminated", "{cli}");
    }
}

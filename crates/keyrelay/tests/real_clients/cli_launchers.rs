//! `keyrelay codex` and `keyrelay gemini` with the real Codex CLI and Gemini
//! CLI, headless, against a fake Anthropic upstream whose first key is
//! rate-limited: the model asks to read a file through the CLI's own tool,
//! and answers with what it holds.
//!
//! A throwaway HOME, the environment cleared, every vendor host unreachable
//! (`HTTPS_PROXY` names a closed port, loopback excepted), so a run that
//! needed OpenAI's or Google's hosts would fail here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use testkit::{FakeUpstream, Reply};

use super::conversation::{anthropic_turn, SECRET};
use super::*;

const LIMITED: &str = "test-key-cli-e2e-limited-0001";
const GOOD: &str = "test-key-cli-e2e-good-0000002";

/// The native Codex binary from the pinned npm package's platform package.
fn codex_bin() -> PathBuf {
    require(
        e2e_dir().join(
            "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
        ),
        "the Codex CLI (@openai/codex)",
    )
}

/// Gemini CLI's bundled entry point from the pinned npm package.
fn gemini_bin() -> PathBuf {
    require(
        e2e_dir().join("node_modules/@google/gemini-cli/bundle/gemini.js"),
        "the Gemini CLI (@google/gemini-cli)",
    )
}

struct Workspace {
    dir: PathBuf,
    /// keyrelay's state directory for the run: Gemini CLI ignores a settings
    /// file below a group- or world-writable directory (such as `/tmp`, where
    /// a checkout may live), so it goes under the test runner's own home.
    state: PathBuf,
}

impl Workspace {
    fn new(name: &str, upstream: &FakeUpstream) -> Workspace {
        let dir = e2e_dir().join(format!("work-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).unwrap();
        std::fs::write(
            dir.join("notes.txt"),
            format!("the secret word is {SECRET}\n"),
        )
        .unwrap();
        // Sticky order, so the limited key is met first (the CLIs name a
        // session, which affinity would place on either key).
        std::fs::write(
            dir.join("keyrelay.toml"),
            "[pool]\nsession_affinity = false\n",
        )
        .unwrap();
        let file = dir.join("notes.txt").display().to_string();
        upstream.on_key(
            LIMITED,
            [
                Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                    .header("retry-after", "600"),
            ],
        );
        upstream.on_key_with(GOOD, move |request| anthropic_turn(request, &file));
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
        let state = home
            .join(".cache")
            .join(format!("keyrelay-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        Workspace { dir, state }
    }

    async fn keyrelay(&self, upstream: &FakeUpstream, args: &[&str]) -> std::process::Output {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyrelay"));
        command
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.join("home"))
            .env("XDG_STATE_HOME", &self.state)
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}"))
            .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("KEYRELAY_CONFIG", self.dir.join("keyrelay.toml"))
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(180), command.output())
            .await
            .expect("finishes within 180 s")
            .unwrap()
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

fn assert_answered(output: &std::process::Output, upstream: &FakeUpstream) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(SECRET),
        "the answer quotes the file: {stdout}\n{stderr}"
    );
    assert_eq!(upstream.hits(LIMITED), 1, "the limited key was met once");
    assert!(upstream.hits(GOOD) >= 2, "a tool call, then the answer");
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_codex_runs_real_codex_exec_on_anthropic() {
    let upstream = FakeUpstream::start().await;
    let work = Workspace::new("codex", &upstream);
    let codex = path_str(&codex_bin());
    let output = work
        .keyrelay(
            &upstream,
            &[
                "codex",
                "--model",
                "anthropic@claude-sonnet-4-5",
                "--codex-bin",
                &codex,
                "--",
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "Read the file notes.txt and tell me the secret word in it.",
            ],
        )
        .await;
    assert_answered(&output, &upstream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_gemini_runs_real_gemini_cli_on_anthropic() {
    let upstream = FakeUpstream::start().await;
    let work = Workspace::new("gemini-cli", &upstream);
    let gemini = path_str(&gemini_bin());
    let output = work
        .keyrelay(
            &upstream,
            &[
                "gemini",
                "--model",
                "anthropic@claude-sonnet-4-5",
                "--gemini-bin",
                &gemini,
                "--",
                "--skip-trust",
                "--yolo",
                "-p",
                "Read the file notes.txt and tell me the secret word in it.",
            ],
        )
        .await;
    assert_answered(&output, &upstream);
}

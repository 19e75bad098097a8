//! `keyrelay codex` and `keyrelay gemini` with the real Codex CLI and Gemini
//! CLI, headless, against a fake upstream whose first key is rate-limited:
//! the model asks to read a file through the CLI's own tool, and answers
//! with what it holds. Codex CLI on an OpenAI (native Responses), an
//! Anthropic and a Gemini provider; Gemini CLI on a Gemini (native), an
//! Anthropic and an OpenAI provider.
//!
//! A throwaway HOME, the environment cleared, every vendor host unreachable
//! (`HTTPS_PROXY` names a closed port, loopback excepted), so a run that
//! needed OpenAI's or Google's hosts would fail here.

use std::path::PathBuf;
use std::time::Duration;

use testkit::{FakeUpstream, Recorded, Reply};

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, openai_turn, SECRET,
};
use super::responses_turn::openai_responses_turn;
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

/// The provider behind keyrelay for a run: where its keys and base URL go,
/// its real rate-limit body for the first key, and the fake's turns.
struct Provider {
    keys_var: &'static str,
    base_var: &'static str,
    rate_limited: &'static str,
    turn: fn(&Recorded, &str) -> Reply,
}

const ANTHROPIC: Provider = Provider {
    keys_var: "ANTHROPIC_API_KEYS",
    base_var: "ANTHROPIC_UPSTREAM_BASE_URL",
    rate_limited: "fixtures/errors/anthropic_rate_limit.json",
    turn: anthropic_turn,
};

const OPENAI: Provider = Provider {
    keys_var: "OPENAI_API_KEYS",
    base_var: "OPENAI_BASE_URL",
    rate_limited: "fixtures/errors/openai_rate_limit.json",
    turn: openai_any_turn,
};

const GEMINI: Provider = Provider {
    keys_var: "GEMINI_API_KEYS",
    base_var: "GEMINI_BASE_URL",
    rate_limited: "fixtures/errors/gemini_rate_limit.json",
    turn: gemini_turn,
};

/// OpenAI serves both its APIs: Responses (native for Codex) and Chat
/// Completions (what the hub sends).
fn openai_any_turn(request: &Recorded, file: &str) -> Reply {
    if request.path.ends_with("/responses") {
        openai_responses_turn(request, file)
    } else {
        openai_turn(request, file)
    }
}

struct Workspace {
    dir: PathBuf,
    /// keyrelay's state directory for the run: Gemini CLI ignores a settings
    /// file below a group- or world-writable directory (such as `/tmp`, where
    /// a checkout may live), so it goes under the test runner's own home.
    state: PathBuf,
    provider: &'static Provider,
    upstream: FakeUpstream,
}

impl Workspace {
    async fn new(name: &str, provider: &'static Provider) -> Workspace {
        let upstream = FakeUpstream::start().await;
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("work-{name}-{}", std::process::id()));
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
            [Reply::fixture(429, provider.rate_limited).header("retry-after", "600")],
        );
        let turn = provider.turn;
        upstream.on_key_with(GOOD, move |request| turn(request, &file));
        let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
        let state = home
            .join(".cache")
            .join(format!("keyrelay-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        Workspace {
            dir,
            state,
            provider,
            upstream,
        }
    }

    async fn keyrelay(&self, args: &[&str]) -> std::process::Output {
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
            .env(self.provider.keys_var, format!("{LIMITED},{GOOD}"))
            .env(self.provider.base_var, self.upstream.base_url())
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("KEYRELAY_CONFIG", self.dir.join("keyrelay.toml"))
            .kill_on_drop(true);
        tokio::time::timeout(Duration::from_secs(60), command.output())
            .await
            .expect("finishes within 60 s")
            .unwrap()
    }

    /// `keyrelay codex --model MODEL` running `codex exec` on the question.
    async fn codex(&self, model: &str) -> std::process::Output {
        let codex = codex_bin().display().to_string();
        self.keyrelay(&[
            "codex",
            "--model",
            model,
            "--codex-bin",
            &codex,
            "--",
            "exec",
            "--skip-git-repo-check",
            "--dangerously-bypass-approvals-and-sandbox",
            QUESTION,
        ])
        .await
    }

    /// `keyrelay gemini --model MODEL` running `gemini -p` on the question.
    async fn gemini(&self, model: &str) -> std::process::Output {
        let gemini = gemini_bin().display().to_string();
        self.keyrelay(&[
            "gemini",
            "--model",
            model,
            "--gemini-bin",
            &gemini,
            "--",
            "--skip-trust",
            "--yolo",
            "-p",
            QUESTION,
        ])
        .await
    }

    /// The CLI quoted the file's secret (which only the fake's answer to
    /// the tool's result holds), the limited key met its 429 and the good
    /// key served the tool call and the answer; every request the good key
    /// served went to a path for which `api` holds (native or translated).
    fn assert_answered(&self, output: &std::process::Output, api: impl Fn(&str) -> bool) {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!("The tool says: the secret word is {SECRET}")),
            "the answer quotes the file: {stdout}\n{stderr}"
        );
        assert_eq!(
            self.upstream.hits(LIMITED),
            1,
            "the limited key was met once"
        );
        let served = self.upstream.requests_with_key(GOOD);
        assert!(served.len() >= 2, "a tool call, then the answer");
        assert!(
            served
                .iter()
                .any(|r| String::from_utf8_lossy(&r.body).contains(SECRET)),
            "the tool's output went up"
        );
        for request in served {
            assert!(api(&request.path), "{} {stderr}", request.path);
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

const QUESTION: &str = "Read the file notes.txt and tell me the secret word in it.";

/// A Gemini `generateContent` or `streamGenerateContent` path for `model`.
fn gemini_path(path: &str, model: &str) -> bool {
    ["/v1beta", "/v1"].iter().any(|version| {
        path.strip_prefix(&format!("{version}/models/{model}:"))
            .is_some_and(|method| method.ends_with("enerateContent"))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_codex_runs_real_codex_exec_on_anthropic() {
    let work = Workspace::new("codex-anthropic", &ANTHROPIC).await;
    let output = work.codex("anthropic@claude-sonnet-4-5").await;
    work.assert_answered(&output, |path| path == "/v1/messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_codex_runs_real_codex_exec_natively_on_openai() {
    let work = Workspace::new("codex-openai", &OPENAI).await;
    let output = work.codex("openai@gpt-5.1-codex").await;
    work.assert_answered(&output, |path| path == "/responses");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_codex_runs_real_codex_exec_on_gemini() {
    let work = Workspace::new("codex-gemini", &GEMINI).await;
    let output = work.codex("gemini@gemini-2.5-flash").await;
    work.assert_answered(&output, |path| gemini_path(path, "gemini-2.5-flash"));
    assert_gemini_signatures_returned(&work.upstream.requests_with_key(GOOD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_gemini_runs_real_gemini_cli_on_anthropic() {
    let work = Workspace::new("gemini-anthropic", &ANTHROPIC).await;
    let output = work.gemini("anthropic@claude-sonnet-4-5").await;
    work.assert_answered(&output, |path| path == "/v1/messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_gemini_runs_real_gemini_cli_natively_on_gemini() {
    let work = Workspace::new("gemini-gemini", &GEMINI).await;
    let output = work.gemini("gemini@gemini-2.5-flash").await;
    work.assert_answered(&output, |path| gemini_path(path, "gemini-2.5-flash"));
    assert_gemini_signatures_returned(&work.upstream.requests_with_key(GOOD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_gemini_runs_real_gemini_cli_on_openai() {
    let work = Workspace::new("gemini-openai", &OPENAI).await;
    let output = work.gemini("openai@gpt-4.1").await;
    work.assert_answered(&output, |path| path == "/chat/completions");
}

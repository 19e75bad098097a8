//! The real Claude Code CLI, headless, doing a tool round trip through keyrelay.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use testkit::FakeUpstream;

use super::conversation::{
    anthropic_turn, assert_gemini_signatures_returned, gemini_turn, openai_turn, SECRET,
};
use super::*;

const LIMITED: &str = "test-key-e2e-limited-000001";
const GOOD: &str = "test-key-e2e-good-000000002";

/// Runs `claude -p PROMPT --output-format json` in `workdir` against
/// `base_url`, with a throwaway HOME and no traffic to its vendor.
async fn run_claude(base_url: &str, model: &str, workdir: &Path) -> (Value, String) {
    let home = workdir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = tokio::process::Command::new(claude_bin());
    command
        .args([
            "-p",
            "Read the file notes.txt and tell me the secret word in it.",
        ])
        .args([
            "--output-format",
            "json",
            "--allowedTools",
            "Read",
            "--model",
            model,
        ])
        .current_dir(workdir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("ANTHROPIC_BASE_URL", base_url)
        .env("ANTHROPIC_API_KEY", "test-client-token")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("claude finishes within 120 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "claude failed: {stdout}\n{stderr}");
    let result: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    (result, stderr)
}

fn workdir(name: &str) -> std::path::PathBuf {
    let dir = e2e_dir().join(format!("work-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("notes.txt"),
        format!("shopping list\nthe secret word is {SECRET}\n"),
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_reads_a_file_through_keyrelay_on_anthropic() {
    let upstream = FakeUpstream::start().await;
    let dir = workdir("anthropic");
    let file = dir.join("notes.txt").display().to_string();
    upstream.on_key(
        LIMITED,
        [
            testkit::Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "60"),
        ],
    );
    upstream.on_key_with(GOOD, move |request| anthropic_turn(request, &file));
    let gateway = gateway(
        &[
            ("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}")),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ],
        &[],
    )
    .await;
    let (result, _) = run_claude(&gateway.url(), "claude-sonnet-4-5", &dir).await;
    assert_eq!(result["is_error"], false, "{result}");
    assert!(
        result["result"]
            .as_str()
            .unwrap_or_default()
            .contains(SECRET),
        "{result}"
    );
    let requests = upstream.requests();
    assert!(
        requests.iter().any(anthropic_has_tool_result),
        "the tool result went back upstream"
    );
    assert_eq!(
        upstream.hits(LIMITED),
        1,
        "the limited key was tried once, then left to cool"
    );
    // Claude Code names its session on every request: what session
    // affinity keys on (the header reaches an Anthropic upstream as sent).
    let sessions: std::collections::HashSet<String> = requests
        .iter()
        .filter_map(|r| r.header("x-claude-code-session-id").map(str::to_owned))
        .collect();
    assert_eq!(
        sessions.len(),
        1,
        "one session, on every request: {sessions:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn anthropic_has_tool_result(request: &testkit::Recorded) -> bool {
    request
        .json()
        .ok()
        .and_then(|b| super::conversation::anthropic_tool_result(&b))
        .is_some_and(|t| t.contains(SECRET))
}

async fn claude_code_through(
    keys_var: &str,
    base_var: &str,
    alias: &str,
    limited: testkit::Reply,
    turn: fn(&testkit::Recorded, &str) -> testkit::Reply,
    name: &str,
) -> FakeUpstream {
    let upstream = FakeUpstream::start().await;
    let dir = workdir(name);
    let file = dir.join("notes.txt").display().to_string();
    upstream.on_key(LIMITED, [limited]);
    upstream.on_key_with(GOOD, move |request| turn(request, &file));
    let gateway = gateway(
        &[
            (keys_var, format!("{LIMITED},{GOOD}")),
            (base_var, upstream.base_url()),
        ],
        &[("claude-*", alias)],
    )
    .await;
    let (result, _) = run_claude(&gateway.url(), "claude-sonnet-4-5", &dir).await;
    assert_eq!(result["is_error"], false, "{result}");
    assert!(
        result["result"]
            .as_str()
            .unwrap_or_default()
            .contains(SECRET),
        "{result}"
    );
    assert_eq!(upstream.hits(LIMITED), 1);
    assert!(upstream.hits(GOOD) >= 2, "a tool call, then the answer");
    let _ = std::fs::remove_dir_all(&dir);
    upstream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_reads_a_file_through_keyrelay_on_openai() {
    let limited = testkit::Reply::fixture(429, "fixtures/errors/openai_rate_limit.json");
    claude_code_through(
        "OPENAI_API_KEYS",
        "OPENAI_BASE_URL",
        "openai@gpt-4.1",
        limited,
        openai_turn,
        "openai",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_reads_a_file_through_keyrelay_on_gemini() {
    let limited = testkit::Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json");
    let upstream = claude_code_through(
        "GEMINI_API_KEYS",
        "GEMINI_BASE_URL",
        "gemini@gemini-2.5-flash",
        limited,
        gemini_turn,
        "gemini",
    )
    .await;
    assert_gemini_signatures_returned(&upstream.requests_with_key(GOOD));
}

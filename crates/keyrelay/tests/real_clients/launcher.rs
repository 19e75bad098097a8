//! `keyrelay claude` with the real Claude Code CLI, headless, against a fake
//! OpenAI upstream whose first key is rate-limited; then `keyrelay keys`
//! shows that key cooling, read back from the state store.

use std::time::Duration;

use serde_json::Value;
use testkit::{FakeUpstream, Reply};

use super::conversation::{anthropic_turn, openai_turn, SECRET};
use super::*;

const LIMITED: &str = "test-key-launch-e2e-limited-1";
const GOOD: &str = "test-key-launch-e2e-good-0002";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_claude_runs_real_claude_code_on_openai() {
    let upstream = FakeUpstream::start().await;
    let dir = e2e_dir().join(format!("work-launcher-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::write(
        dir.join("notes.txt"),
        format!("the secret word is {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("keyrelay.toml"),
        "[pool]\nsession_affinity = false\n",
    )
    .unwrap();
    let file = dir.join("notes.txt").display().to_string();
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/openai_rate_limit.json")
                .header("retry-after", "600"),
        ],
    );
    upstream.on_key_with(GOOD, move |request| openai_turn(request, &file));

    let keyrelay = |args: &[&str]| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyrelay"));
        command
            .args(args)
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.join("home"))
            .env("XDG_STATE_HOME", dir.join("state"))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("OPENAI_API_KEYS", format!("{LIMITED},{GOOD}"))
            .env("OPENAI_BASE_URL", upstream.base_url())
            // Sticky order, so the limited key is met first (Claude Code
            // names a session, which affinity would place on either key).
            .env("KEYRELAY_CONFIG", dir.join("keyrelay.toml"))
            .kill_on_drop(true);
        command
    };
    let claude = claude_bin().display().to_string();
    let prompt = "Read the file notes.txt and tell me the secret word in it.";
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        keyrelay(&[
            "claude",
            "--model",
            "openai@gpt-4.1",
            "--claude-bin",
            &claude,
            "--",
            "-p",
            prompt,
            "--output-format",
            "json",
            "--allowedTools",
            "Read",
        ])
        .output(),
    )
    .await
    .expect("finishes within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(
        result["result"]
            .as_str()
            .unwrap_or_default()
            .contains(SECRET),
        "{result}"
    );
    assert_eq!(upstream.hits(LIMITED), 1);

    let keys = keyrelay(&["keys", "--json"]).output().await.unwrap();
    let table: Value = serde_json::from_slice(&keys.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&keys.stdout)));
    let openai: Vec<&Value> = table["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["provider"] == "openai")
        .collect();
    assert_eq!(openai.len(), 2, "{table}");
    assert_eq!(openai[0]["state"], "cooling", "{table}");
    assert!(
        openai[0]["cooldown_remaining_ms"].as_u64().unwrap() > 500_000,
        "{table}"
    );
    assert_eq!(openai[1]["state"], "available", "{table}");
    assert!(
        !String::from_utf8_lossy(&keys.stdout).contains(LIMITED),
        "fingerprints only"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first key's stream of Claude Code's tool call, broken inside the
/// call: "I'll read the file.", then the `Read` call cut half way through
/// its arguments.
fn read_call_cut(file: &str) -> Reply {
    let arguments = serde_json::json!({"file_path": file}).to_string();
    let (head, tail) = arguments.split_at(arguments.len() / 2);
    let events = testkit::anthropic_tool_stream_events(
        "I'll read the file.",
        "toolu_cut",
        "Read",
        &[head, tail],
    );
    // message_start, the text block (start, 4 pieces, stop), the call's
    // start and its first argument piece.
    Reply::sse(events).cut_after(8)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyrelay_claude_finishes_a_tool_round_trip_while_the_first_keys_stream_breaks() {
    const BREAKS: &str = "test-key-launch-e2e-breaks-1";
    let upstream = FakeUpstream::start().await;
    let dir = e2e_dir().join(format!("work-launcher-continued-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::write(
        dir.join("notes.txt"),
        format!("the secret word is {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("keyrelay.toml"),
        "[pool]\nsession_affinity = false\ncontinue_streams = true\n",
    )
    .unwrap();
    let file = dir.join("notes.txt").display().to_string();
    let asks_for_the_file = |request: &testkit::Recorded| {
        let body = request.json().unwrap_or_default();
        let has_read = body["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == "Read"));
        has_read
            && super::conversation::anthropic_tool_result(&body).is_none()
            && body["stream"] == true
    };
    let breaking = file.clone();
    upstream.on_key_with(BREAKS, move |request| {
        if asks_for_the_file(request) && testkit::prefill_of(request).is_empty() {
            read_call_cut(&breaking)
        } else {
            anthropic_turn(request, &breaking)
        }
    });
    let continuing = file.clone();
    upstream.on_key_with(GOOD, move |request| {
        let prefill = testkit::prefill_of(request);
        if prefill.is_empty() {
            return anthropic_turn(request, &continuing);
        }
        assert_eq!(prefill, "I'll read the file.");
        let arguments = serde_json::json!({"file_path": continuing}).to_string();
        Reply::sse(testkit::anthropic_tool_stream_events(
            "",
            "toolu_whole",
            "Read",
            &[&arguments],
        ))
    });

    let claude = claude_bin().display().to_string();
    let prompt = "Read the file notes.txt and tell me the secret word in it.";
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_keyrelay"))
            .args([
                "claude",
                "--model",
                "anthropic@claude-sonnet-4-5",
                "--claude-bin",
                &claude,
                "--",
                "-p",
                prompt,
                "--output-format",
                "json",
                "--allowedTools",
                "Read",
            ])
            .current_dir(&dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.join("home"))
            .env("XDG_STATE_HOME", dir.join("state"))
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            // Anthropic continues no prefilled turn with thinking on
            // (Claude Code turns it on by default): off here.
            .env("MAX_THINKING_TOKENS", "0")
            .env("ANTHROPIC_API_KEYS", format!("{BREAKS},{GOOD}"))
            .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
            .env("KEYRELAY_CONFIG", dir.join("keyrelay.toml"))
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("finishes within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    assert!(
        result["result"]
            .as_str()
            .unwrap_or_default()
            .contains(SECRET),
        "{result}"
    );
    let continued: Vec<_> = upstream
        .requests_with_key(GOOD)
        .into_iter()
        .filter(|r| !testkit::prefill_of(r).is_empty())
        .collect();
    assert_eq!(
        continued.len(),
        1,
        "the broken call was asked of the next key once"
    );
    let tool_results: Vec<String> = upstream
        .requests()
        .iter()
        .filter_map(|r| r.json().ok())
        .filter_map(|b| super::conversation::anthropic_tool_result(&b))
        .collect();
    assert!(
        tool_results.iter().any(|t| t.contains(SECRET)),
        "Claude Code ran the one whole call and sent its result: {tool_results:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

//! `keyrelay claude` with the real Claude Code CLI, headless, against a fake
//! OpenAI upstream whose first key is rate-limited; then `keyrelay keys`
//! shows that key cooling, read back from the state store.

use std::time::Duration;

use serde_json::Value;
use testkit::{FakeUpstream, Reply};

use super::conversation::{openai_turn, SECRET};
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

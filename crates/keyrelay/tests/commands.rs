//! The informational commands, run as a user runs them: `keys check`,
//! `keys`, `providers`, `config check`, `init`, and `--help`.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use serde_json::Value;
use testkit::{FakeUpstream, Reply};
use tokio::process::Command;

const VALID: &str = "test-key-check-valid-000001";
const INVALID: &str = "test-key-check-invalid-0002";
const LIMITED: &str = "test-key-check-limited-0003";
const BROKE: &str = "test-key-check-broke-000004";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrelay-cmd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn keyrelay(dir: &PathBuf, env: &[(&str, String)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyrelay"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .current_dir(dir);
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

#[tokio::test]
async fn keys_check_sorts_keys_by_what_the_provider_says_and_updates_their_state() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        VALID,
        [Reply::json(
            200,
            serde_json::json!({"object": "list", "data": []}),
        )],
    );
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/openai_invalid_key.json",
        )],
    );
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/openai_rate_limit.json",
        )],
    );
    upstream.on_key(
        BROKE,
        [Reply::fixture(429, "fixtures/errors/openai_no_credit.json")],
    );
    let dir = scratch("check");
    let env = [
        (
            "OPENAI_API_KEYS",
            format!("{VALID},{INVALID},{LIMITED},{BROKE}"),
        ),
        ("OPENAI_BASE_URL", upstream.base_url()),
    ];
    let output = keyrelay(&dir, &env)
        .args(["keys", "check", "openai", "--json"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "not every key is valid");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let verdicts: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["valid", "invalid", "rate_limited", "no_credit"]);
    assert!(
        upstream
            .requests()
            .iter()
            .all(|r| r.method == "GET" && r.path == "/models"),
        "an unbilled model list"
    );

    let table = keyrelay(&dir, &env)
        .args(["keys"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    let states: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        states,
        ["available", "disabled", "cooling", "cooling"],
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "no colour when not a terminal: {text}"
    );
    for key in [VALID, INVALID, LIMITED, BROKE] {
        assert!(!text.contains(key) && !String::from_utf8_lossy(&output.stdout).contains(key));
    }

    // A key found valid again comes back.
    upstream.on_key(
        INVALID,
        [Reply::json(
            200,
            serde_json::json!({"object": "list", "data": []}),
        )],
    );
    let again = keyrelay(&dir, &env)
        .args(["keys", "check", "--json"])
        .output()
        .await
        .unwrap();
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["checks"][1]["verdict"], "valid");
    let table = keyrelay(&dir, &env)
        .args(["keys", "--json"])
        .output()
        .await
        .unwrap();
    let keys: Value = serde_json::from_slice(&table.stdout).unwrap();
    assert_eq!(keys["keys"][1]["state"], "available", "{keys}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn providers_lists_variables_and_key_counts_never_keys() {
    let dir = scratch("providers");
    let env = [("GEMINI_API_KEYS", format!("{VALID},{INVALID}"))];
    let output = keyrelay(&dir, &env)
        .args(["providers", "--json"])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains(VALID));
    let list: Value = serde_json::from_str(&text).unwrap();
    let gemini = list["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "gemini")
        .unwrap();
    assert_eq!(gemini["keys"], 2);
    assert_eq!(
        gemini["key_env_set"],
        serde_json::json!(["GEMINI_API_KEYS"])
    );
    let plain = keyrelay(&dir, &env)
        .arg("providers")
        .output()
        .await
        .unwrap();
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(
        plain.contains("no keys: set OPENAI_API_KEY or OPENAI_API_KEYS"),
        "{plain}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn init_writes_a_sample_that_config_check_accepts_with_sources() {
    let dir = scratch("init");
    let written = keyrelay(&dir, &[])
        .args(["init", "--path", "keyrelay.toml"])
        .output()
        .await
        .unwrap();
    assert!(written.status.success());
    let sample = std::fs::read_to_string(dir.join("keyrelay.toml")).unwrap();
    assert!(sample.contains("[providers.kimi]") && sample.contains("deepseek"));
    let again = keyrelay(&dir, &[])
        .args(["init", "--path", "keyrelay.toml"])
        .output()
        .await
        .unwrap();
    assert!(!again.status.success(), "never overwrites without --force");

    std::fs::write(dir.join("mine.toml"), "[server]\nlisten = \"127.0.0.1:9999\"\n[providers.gemini]\nkeys = [\"test-file-key-0000001\"]\n").unwrap();
    let checked = keyrelay(&dir, &[])
        .args(["config", "check", "--config", "mine.toml", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(
        !text.contains("test-file-key"),
        "keys from the file are hidden: {text}"
    );
    let report: Value = serde_json::from_str(&text).unwrap();
    let listen = report["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "server.listen")
        .unwrap();
    assert!(
        listen["source"].as_str().unwrap().contains("mine.toml"),
        "{listen}"
    );
    let timeout = report["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "timeouts.connect")
        .unwrap();
    assert_eq!(timeout["source"], "default");

    std::fs::write(dir.join("bad.toml"), "[pool]\nstrategy = \"random\"\n").unwrap();
    let bad = keyrelay(&dir, &[])
        .args(["config", "check", "--config", "bad.toml"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    // The field and its choices; never what was written there.
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("pool.strategy")
            && stderr.contains("round_robin")
            && !stderr.contains("random"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_command_has_help_with_examples() {
    let dir = scratch("help");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["claude", "--help"],
        &["keys", "--help"],
        &["keys", "check", "--help"],
        &["providers", "--help"],
        &["config", "check", "--help"],
        &["init", "--help"],
        &["health", "--help"],
        &["completions", "--help"],
        &["man", "--help"],
    ] {
        let output = keyrelay(&dir, &[]).args(args).output().await.unwrap();
        assert!(output.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("Examples:"), "{args:?}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn serve_refuses_a_fallback_that_does_not_route_and_config_check_too() {
    let dir = scratch("fallback");
    // Were the rule accepted, the server would run: bound the wait.
    let serve = keyrelay(&dir, &[])
        .args([
            "serve",
            "--state",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--fallback",
            "gemini@*=openai@gpt-4.1,nosuch@model",
        ])
        .kill_on_drop(true)
        .output();
    let serve = tokio::time::timeout(std::time::Duration::from_secs(30), serve)
        .await
        .expect("serve exits at once")
        .unwrap();
    assert!(!serve.status.success());
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert!(
        stderr.contains("gemini@*") && stderr.contains("nosuch@model"),
        "{stderr}"
    );
    let bad = keyrelay(&dir, &[])
        .args(["serve", "--fallback", "no-equals-sign"])
        .output()
        .await
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("PATTERN=TARGET"));

    std::fs::write(
        dir.join("keyrelay.toml"),
        "[fallbacks]\n\"gemini@*\" = [\"nosuch@model\"]\n",
    )
    .unwrap();
    let check = keyrelay(&dir, &[])
        .args(["config", "check", "--config", "keyrelay.toml"])
        .output()
        .await
        .unwrap();
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stderr).contains("nosuch@model"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn config_check_hides_the_collectors_headers_and_names_a_bad_telemetry_setting() {
    let dir = scratch("telemetry");
    std::fs::write(
        dir.join("keyrelay.toml"),
        "[telemetry]\nendpoint = \"http://127.0.0.1:4318\"\nheaders = { authorization = \"Bearer collector-s3cret\" }\n",
    )
    .unwrap();
    let checked = keyrelay(&dir, &[])
        .args(["config", "check", "--config", "keyrelay.toml", "--json"])
        .output()
        .await
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(text.contains("telemetry.headers.authorization"), "{text}");
    assert!(!text.contains("collector-s3cret"), "{text}");

    let bad = keyrelay(
        &dir,
        &[
            ("OTEL_TRACES_SAMPLER", "sometimes".to_owned()),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-token=s3cret".to_owned()),
        ],
    )
    .args(["config", "check", "--config", "keyrelay.toml"])
    .output()
    .await
    .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("OTEL_TRACES_SAMPLER") && stderr.contains("unknown sampler"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

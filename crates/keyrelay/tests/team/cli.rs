//! `keyrelay vkeys` and `keyrelay spend`, run as an operator runs them,
//! against the SQLite file a running gateway uses: a key made on the
//! command line serves there, and a change or deletion reaches it within
//! about a second.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use testkit::{eventually_async, FakeUpstream, Reply};
use tokio::process::Command;

use super::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrelay-team-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `keyrelay ARGS --state sqlite:DIR/state.db`: exit code, stdout, stderr.
async fn keyrelay(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let state = format!("sqlite:{}", dir.join("state.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .current_dir(dir)
        .args(args)
        .args(["--state", &state])
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_made_on_the_command_line_serves_and_its_changes_reach_the_gateway() {
    let dir = scratch("lifecycle");
    let (code, out, err) = keyrelay(
        &dir,
        &[
            "vkeys",
            "create",
            "alice",
            "--team",
            "research",
            "--route",
            "openai@*",
            "--budget-day",
            "5",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let secret = out
        .split_whitespace()
        .find(|w| w.starts_with("kr-"))
        .unwrap()
        .to_owned();
    assert!(out.contains("shown this once"), "{out}");

    let (code, _, err) = keyrelay(&dir, &["vkeys", "create", "bob", "--budget-day", "-1"]).await;
    assert_ne!(code, 0);
    assert!(
        err.contains("--budget-day:") && err.contains("nothing was changed"),
        "{err}"
    );
    let (code, _, err) = keyrelay(&dir, &["vkeys", "create", "bob", "--route", "gemnii@*"]).await;
    assert_ne!(code, 0);
    assert!(err.contains("--route: unknown provider `gemnii`"), "{err}");

    // A gateway on the same file serves the key.
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            chat_completion(openai_usage(1000, 250, 0)),
        )],
    );
    let state = format!(
        "[state]\nstore = \"sqlite:{}\"\n",
        dir.join("state.db").display()
    );
    let gateway = gateway(&upstream, &state).await;
    assert_eq!(
        chat(&gateway, &secret, chat_body("openai@gpt-4.1", false))
            .await
            .status(),
        200
    );
    assert_eq!(
        chat(&gateway, &secret, chat_body("gemini@gemini-2.5-pro", false))
            .await
            .status(),
        403
    );
    eventually_async("the spend in the file", Duration::from_secs(5), || async {
        let (_, out, _) = keyrelay(&dir, &["spend", "--by", "team", "--json"]).await;
        let report: Value = serde_json::from_str(&out).unwrap();
        report["rows"][0]["team"] == "research"
    })
    .await;

    let (code, table, _) = keyrelay(&dir, &["vkeys", "list"]).await;
    assert_eq!(code, 0);
    assert!(
        table.contains("alice") && table.contains("research"),
        "{table}"
    );
    assert!(
        table.contains("$0.0040 / $5"),
        "today's spend against the budget: {table}"
    );
    let (_, listed, _) = keyrelay(&dir, &["vkeys", "list", "--json"]).await;
    let (_, report, _) = keyrelay(&dir, &["spend", "--by", "key"]).await;
    assert!(
        report.contains("alice") && report.contains("0.004000"),
        "{report}"
    );
    let (_, csv, _) = keyrelay(&dir, &["spend", "--by", "model", "--csv"]).await;
    assert!(csv.starts_with("model,usd,"), "{csv}");
    assert!(csv.contains("openai@gpt-4.1,0.004000000,1,"), "{csv}");
    for text in [&table, &listed, &report, &csv] {
        assert!(!text.contains(&secret[3..]), "the secret is shown again");
    }

    // Changes on the command line reach the running gateway within a second or so.
    let (code, _, err) = keyrelay(&dir, &["vkeys", "disable", "alice"]).await;
    assert_eq!(code, 0, "{err}");
    eventually_async(
        "the gateway refuses the disabled key",
        Duration::from_secs(3),
        || async {
            chat(&gateway, &secret, chat_body("openai@gpt-4.1", false))
                .await
                .status()
                == 401
        },
    )
    .await;
    let (code, _, _) = keyrelay(&dir, &["vkeys", "enable", "alice"]).await;
    assert_eq!(code, 0);
    let (code, out, err) = keyrelay(
        &dir,
        &[
            "vkeys",
            "set",
            "alice",
            "--route",
            "gemini@*",
            "--budget-day",
            "none",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let view: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(view["routes"], json!(["gemini@*"]));
    assert_eq!(view["budget_usd"]["day"], Value::Null);
    eventually_async(
        "the gateway applies the new routes",
        Duration::from_secs(3),
        || async {
            chat(&gateway, &secret, chat_body("openai@gpt-4.1", false))
                .await
                .status()
                == 403
        },
    )
    .await;
    let (code, _, _) = keyrelay(&dir, &["vkeys", "delete", "alice"]).await;
    assert_eq!(code, 0);
    eventually_async(
        "the gateway refuses the deleted key",
        Duration::from_secs(3),
        || async {
            chat(&gateway, &secret, chat_body("openai@gpt-4.1", false))
                .await
                .status()
                == 401
        },
    )
    .await;
    let (_, out, _) = keyrelay(&dir, &["vkeys", "list"]).await;
    assert!(out.contains("No virtual keys yet"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

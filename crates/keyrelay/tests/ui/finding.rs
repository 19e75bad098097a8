//! Finding the dashboard: `keyrelay serve` logs its address when admin
//! tokens are set, and `keyrelay claude -v` prints it with a token made for
//! the run.

use std::process::Stdio;
use std::time::Duration;

use testkit::FakeUpstream;

use super::*;

#[path = "../support/served.rs"]
mod served;

#[tokio::test]
async fn serve_logs_the_dashboard_address_only_when_admin_tokens_are_set() {
    let upstream = FakeUpstream::start().await;
    let env = [
        ("ANTHROPIC_API_KEYS", FIRST.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ("KEYRELAY_STATE", "memory".to_owned()),
    ];
    let with_admin = [&env[..], &[("KEYRELAY_ADMIN_TOKENS", ADMIN.to_owned())]].concat();
    let served = served::serve(&with_admin, &[]).await;
    let line = testkit::eventually("the dashboard line", Duration::from_secs(10), || {
        served.log_lines(&["dashboard"]).into_iter().next()
    })
    .await;
    let url = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("url="))
        .unwrap_or_else(|| panic!("no url= in {line}"));
    assert_eq!(url, format!("{}/ui", served.url));
    let page = client().get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Admin token"));
    served.stop().await;

    let without = served::serve(&env, &[]).await;
    let page = client()
        .get(format!("{}/ui", without.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    assert!(without.log_lines(&["dashboard"]).is_empty());
    without.stop().await;
}

/// A stand-in for Claude Code: fetches the dashboard page through the
/// gateway it was pointed at, and records what it saw.
const STAND_IN: &str = r#"#!/usr/bin/env bash
set -euo pipefail
python3 - > "$RECORD_DIR/seen" <<'PY'
import os, urllib.request
base = os.environ["ANTHROPIC_BASE_URL"]
with urllib.request.urlopen(base + "/ui") as page:
    print(base + "/ui", page.status)
PY
"#;

#[tokio::test]
async fn the_launcher_prints_the_dashboard_address_and_a_run_admin_token_with_v() {
    let upstream = FakeUpstream::start().await;
    let dir = std::env::temp_dir().join(format!("keyrelay-ui-launch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let claude = dir.join("bin/claude");
    std::fs::write(&claude, STAND_IN).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["claude", "-v", "--model", "a/claude-sonnet-4-5"])
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("HOME", &dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .env("RECORD_DIR", &dir)
        .env("ANTHROPIC_API_KEYS", FIRST)
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("keyrelay: dashboard: "))
        .unwrap_or_else(|| panic!("no dashboard line in {stderr}"));
    let (url, token) = line
        .strip_suffix(')')
        .and_then(|l| l.split_once(" (admin token for this run: "))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        token.starts_with("keyrelay-run-") && token.len() > 30,
        "{token}"
    );
    let seen = std::fs::read_to_string(dir.join("seen")).unwrap();
    assert_eq!(
        seen.trim(),
        format!("{url} 200"),
        "the page was on at that address"
    );
    assert!(!stderr.contains(&FIRST[9..]), "no key printed");
    let _ = std::fs::remove_dir_all(&dir);
}

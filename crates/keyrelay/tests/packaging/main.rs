//! keyrelay as people install it, from what `scripts/package` leaves in
//! `dist/`: the npm packages installed into an empty prefix with no network,
//! the wheel installed into a fresh venv, and the static binary alone in an
//! empty root beside a CA bundle, as the `FROM scratch` image holds it, each
//! then serving. And what a release carries besides: `--version` with the
//! commit, shell completions, the man pages.
//!
//! These tests fail, saying so, when `dist/` is missing or was built from
//! another commit: `scripts/test` runs `scripts/package` first.

#![allow(clippy::unwrap_used)]

mod image;
mod installs;
mod release;
#[path = "../support/served.rs"]
mod served;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use testkit::FakeUpstream;
use tokio::process::Command;

/// What scripts/package builds by default: the static binary for this
/// machine's architecture, and that architecture's names in npm and docker.
struct Platform {
    target: String,
    npm_cpu: &'static str,
    image_arch: &'static str,
}

fn platform() -> Platform {
    let (npm_cpu, image_arch) = match std::env::consts::ARCH {
        "x86_64" => ("x64", "amd64"),
        "aarch64" => ("arm64", "arm64"),
        other => panic!("keyrelay is packaged for x86_64 and aarch64 Linux, not {other}"),
    };
    Platform {
        target: format!("{}-unknown-linux-musl", std::env::consts::ARCH),
        npm_cpu,
        image_arch,
    }
}
const ACCESS_TOKEN: &str = "test-access-token-packaging";
const UPSTREAM_KEY: &str = "test-key-packaging-0000001";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `dist/`, checked to hold this build's packages.
async fn dist() -> PathBuf {
    let dist = repo_root().join("dist");
    let binary = static_binary_in(&dist);
    assert!(
        binary.is_file(),
        "{} is missing: run scripts/package (scripts/test does) to build dist/",
        binary.display()
    );
    let packed = version_of(&binary).await;
    let built = version_of(Path::new(env!("CARGO_BIN_EXE_keyrelay"))).await;
    assert_eq!(
        packed, built,
        "dist/ holds another build of keyrelay than this one: run scripts/package again"
    );
    dist
}

fn static_binary_in(dist: &Path) -> PathBuf {
    dist.join(format!(
        "keyrelay-{}-{}",
        env!("CARGO_PKG_VERSION"),
        platform().target
    ))
    .join("keyrelay")
}

async fn version_of(binary: &Path) -> String {
    let output = Command::new(binary).arg("--version").output().await;
    let output = output.unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    assert!(output.status.success(), "{}: {output:?}", binary.display());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// The one file in `dir` whose name starts with `prefix` and ends with `suffix`.
fn only_file(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {prefix}…{suffix} in {}: {found:?}",
        dir.display()
    );
    found.into_iter().next().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("keyrelay-packaging-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Where `program` is on PATH, failing with what to install when it is not.
fn require(program: &str, install: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| panic!("{program} is missing: {install}"))
}

async fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `version` is `keyrelay X.Y.Z (COMMIT)`, the commit git says HEAD is.
fn assert_names_version_and_commit(version: &str) {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    assert_eq!(
        version,
        format!("keyrelay {} ({commit})", env!("CARGO_PKG_VERSION"))
    );
}

async fn health_of(url: &str) -> Value {
    let health = reqwest::get(format!("{url}/health")).await.unwrap();
    assert_eq!(health.status(), 200);
    health.json().await.unwrap()
}

/// `keyrelay serve` started as `program serve`, with a fake upstream for its
/// one Anthropic key, on a free loopback port.
async fn serve_installed(program: &Path, upstream: &FakeUpstream) -> served::Served {
    let mut command = Command::new(program);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--state", "memory"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ANTHROPIC_API_KEYS", UPSTREAM_KEY)
        .env("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url());
    served::start(command).await
}

async fn send_message(url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/v1/messages"))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 16,
                      "messages": [{"role": "user", "content": "hi"}]}));
    if let Some(token) = token {
        request = request.header("x-api-key", token);
    }
    request.send().await.unwrap()
}

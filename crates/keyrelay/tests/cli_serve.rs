//! The `keyrelay serve` binary as a newcomer runs it: keys in environment
//! variables, a fake upstream as base URL, plain HTTP clients.

#![allow(clippy::unwrap_used)]

use serde_json::json;
use testkit::{FakeUpstream, Reply};
use tokio::process::Command;

#[path = "support/served.rs"]
mod served;

const INVALID: &str = "test-key-cli-invalid-0000001";
const LIMITED: &str = "test-key-cli-limited-0000002";
const GOOD: &str = "test-key-cli-good-0000000003";

#[tokio::test]
async fn a_first_run_without_keys_says_which_variables_to_set() {
    let served = served::serve(&[], &["--state", "memory"]).await;
    let warned = served.log_lines(&["no provider has API keys"]);
    assert_eq!(warned.len(), 1, "{:?}", served.log.lock().unwrap());
    for variable in ["ANTHROPIC_API_KEYS", "OPENAI_API_KEY", "GEMINI_API_KEY"] {
        assert!(warned[0].contains(variable), "{variable}: {}", warned[0]);
    }
    let health: serde_json::Value = reqwest::get(format!("{}/health", served.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["providers"], json!([]));
    let warning = health["warning"].as_str().unwrap_or_default();
    assert!(
        warning.contains("no provider has API keys") && warning.contains("GEMINI_API_KEY"),
        "{health}"
    );
    served.stop().await;
}

#[tokio::test]
async fn a_newcomer_sees_failover_through_the_binary() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
    upstream.on_key(
        "test-gemini-bad-00000001",
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_invalid_key.json",
        )],
    );
    upstream.on_key("test-gemini-good-0000002", [Reply::gemini_generate("hi")]);
    let served = served::serve(
        &[
            ("ANTHROPIC_API_KEYS", format!("{INVALID},{LIMITED},{GOOD}")),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
            (
                "GEMINI_API_KEYS",
                "test-gemini-bad-00000001,test-gemini-good-0000002".into(),
            ),
            ("GEMINI_BASE_URL", upstream.base_url()),
        ],
        &[],
    )
    .await;
    assert!(served.log_lines(&["no provider has API keys"]).is_empty());
    let url = served.url.clone();
    let client = reqwest::Client::new();
    let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let send = || {
        client
            .post(format!("{url}/v1/messages"))
            .header("anthropic-version", "2023-06-01")
            .json(&request)
            .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["x-keyrelay-attempts"], "3");
    for _ in 0..10 {
        let next = send().await.unwrap();
        assert_eq!(
            (
                next.status().as_u16(),
                next.headers()["x-keyrelay-attempts"].to_str().unwrap()
            ),
            (200, "1")
        );
    }
    assert_eq!(
        (
            upstream.hits(INVALID),
            upstream.hits(LIMITED),
            upstream.hits(GOOD)
        ),
        (1, 1, 11)
    );

    let gemini = client
        .post(format!(
            "{url}/p/gemini/v1beta/models/gemini-2.5-flash:generateContent"
        ))
        .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            gemini.status().as_u16(),
            gemini.headers()["x-keyrelay-attempts"].to_str().unwrap()
        ),
        (200, "2")
    );

    served.stop().await;
}

/// How many of the process's threads are runtime workers (`keyrelay-worker`).
#[cfg(target_os = "linux")]
fn worker_threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm)
                .unwrap_or_default()
                .starts_with("keyrelay-worker")
        })
        .count()
}

/// `--workers N` sets how many threads serve: N runtime workers, or with 1
/// none besides the main thread, which then carries every connection. A
/// stream held open by a silent upstream does not hold up the requests that
/// come while it waits.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn workers_sets_the_serving_threads_and_one_thread_serves_clients_side_by_side() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key_with(GOOD, |request| {
        if request.json().unwrap_or_default()["stream"] == json!(true) {
            Reply::anthropic_stream("held open").stall_after(2)
        } else {
            Reply::anthropic_message("hello")
        }
    });
    let env = [
        ("ANTHROPIC_API_KEYS", GOOD.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ];

    let three = served::serve(&env, &["--workers", "3", "--state", "memory"]).await;
    // A new thread takes its name once it runs: wait for all three.
    let pid = three.child.id().unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while worker_threads(pid) != 3 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("three worker threads");
    assert_eq!(
        three.log_lines(&["keyrelay listening", "workers=3"]).len(),
        1
    );
    three.stop().await;

    let one = served::serve(
        &[
            env[0].clone(),
            env[1].clone(),
            ("KEYRELAY_WORKERS", "1".to_owned()),
        ],
        &["--state", "memory"],
    )
    .await;
    assert_eq!(one.log_lines(&["keyrelay listening", "workers=1"]).len(), 1);
    let client = reqwest::Client::new();
    let url = format!("{}/v1/messages", one.url);
    let request = |stream: bool| {
        client
            .post(&url)
            .header("anthropic-version", "2023-06-01")
            .json(
                &json!({"model": "claude-sonnet-4-5", "max_tokens": 16, "stream": stream,
                "messages": [{"role": "user", "content": "hi"}]}),
            )
            .send()
    };
    let mut held = request(true).await.unwrap();
    assert_eq!(held.status(), 200);
    let first = held.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("message_start"));
    let answers = futures_util::future::join_all((0..24).map(|_| async {
        let answer = request(false).await.unwrap();
        (
            answer.status().as_u16(),
            answer.json::<serde_json::Value>().await.unwrap(),
        )
    }));
    let answers = tokio::time::timeout(std::time::Duration::from_secs(20), answers)
        .await
        .expect("requests are served while a stream is held open");
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["content"][0]["text"], "hello");
    }
    // Any worker thread would have named itself by now.
    assert_eq!(worker_threads(one.child.id().unwrap()), 0);
    drop(held);
    one.stop().await;
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback_without_an_access_token() {
    let output = Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("access token"), "{stderr}");
}

#[tokio::test]
async fn a_bad_config_file_is_reported_with_the_offending_field() {
    let dir = std::env::temp_dir().join(format!("keyrelay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    std::fs::write(&path, "[server]\nlisen = \"127.0.0.1:1\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_keyrelay"))
        .args(["serve", "--config"])
        .arg(&path)
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("lisen"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn with_log_format_json_each_request_is_one_access_log_object() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
    let served = served::serve(
        &[
            ("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}")),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ],
        &["--log-format", "json", "--state", "memory"],
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/messages", served.url))
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap();
    let line = testkit::eventually(
        "an access log line",
        std::time::Duration::from_secs(10),
        || served.log_lines(&["keyrelay::access"]).into_iter().next(),
    )
    .await;
    let entry: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(entry["front"], "messages");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["provider"], "anthropic");
    assert_eq!(entry["model"], "claude-sonnet-4-5");
    assert_eq!(entry["attempts"], 2);
    assert!(
        entry["attempt_log"]
            .as_str()
            .unwrap()
            .contains("rate_limited/429"),
        "{entry}"
    );
    assert!(entry["duration_ms"].is_u64());
    assert!(entry["output_tokens"].is_u64(), "{entry}");
    // Every line is JSON, and none holds key material.
    let log = served.log.lock().unwrap().clone();
    for line in &log {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "{line}"
        );
        assert!(!line.contains(GOOD) && !line.contains(LIMITED), "{line}");
    }
    served.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_picks_up_a_changed_keys_file_while_a_stream_runs_and_the_stream_completes() {
    use testkit::SseEvent;
    const ADDED: &str = "test-key-cli-added-000000009";
    let dir = std::env::temp_dir().join(format!("keyrelay-sighup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys_file = dir.join("keys.toml");
    std::fs::write(
        &keys_file,
        format!("[providers.anthropic]\nkeys = [\"{GOOD}\"]\n"),
    )
    .unwrap();
    let upstream = FakeUpstream::start().await;
    // A stream that takes a while: one event every 100 ms.
    let events: Vec<SseEvent> =
        testkit::anthropic_stream_events("one two three four five six seven eight");
    upstream.on_key(
        GOOD,
        [Reply::sse(events).chunk_delay(std::time::Duration::from_millis(100))],
    );
    upstream.on_key(ADDED, [Reply::anthropic_message("from the added key")]);
    let served = served::serve(
        &[
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
            ("KEYRELAY_ADMIN_TOKENS", "admin-token-for-tests".into()),
        ],
        &[
            "--keys-file",
            keys_file.to_str().unwrap(),
            "--state",
            "memory",
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let stream = client
        .post(format!("{}/v1/messages", served.url))
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 16, "stream": true, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    std::fs::write(
        &keys_file,
        format!("[providers.anthropic]\nkeys = [\"{GOOD}\", \"{ADDED}\"]\n"),
    )
    .unwrap();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(served.child.id().unwrap()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let keys_url = format!("{}/admin/keys", served.url);
    testkit::eventually_async(
        "the added key is in the pool",
        std::time::Duration::from_secs(10),
        || async {
            let view: serde_json::Value = client
                .get(&keys_url)
                .bearer_auth("admin-token-for-tests")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            view["providers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "anthropic")
                .is_some_and(|p| p["keys"].as_array().unwrap().len() == 2)
        },
    )
    .await;
    let body = stream.text().await.unwrap();
    assert!(
        body.contains("event: message_stop"),
        "the stream completed: {body}"
    );
    assert!(!served.log_lines(&["configuration reloaded"]).is_empty());
    served.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

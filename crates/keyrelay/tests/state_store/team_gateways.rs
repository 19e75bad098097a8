//! Two `keyrelay serve` replicas on one store (a SQLite file, or Redis):
//! a virtual key made on one serves on the other at once, they spend one
//! budget together, a deletion on one is refused by both within 2 s, a
//! restart keeps every figure, and the secret is in no store, log, request
//! log or metric.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{eventually_async, FakeUpstream, RedisServer, Reply};

use super::gateways::redis_dump;
use super::*;

const ADMIN: &str = "admin-token-for-replicas";
const OPENAI_KEY: &str = "test-key-replicas-0000000001";

fn env(upstream: &FakeUpstream) -> Vec<(&'static str, String)> {
    vec![
        ("OPENAI_API_KEYS", OPENAI_KEY.to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", upstream.base_url())),
        ("KEYRELAY_ADMIN_TOKENS", ADMIN.to_owned()),
    ]
}

async fn admin(
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{url}/admin{path}"))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A Chat request with `secret`; its status. Each answer costs $0.004.
async fn spend(url: &str, secret: &str) -> u16 {
    client()
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(secret)
        .json(&json!({"model": "openai@gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Stops a gateway as an operator would (SIGTERM): it finishes and writes
/// what it has not yet written.
async fn stop(mut served: Served) -> Vec<String> {
    let pid = served.child.id().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), served.child.wait()).await;
    let log = served.log.lock().unwrap().clone();
    log
}

/// The scenario on `state`; what the store holds, as text, comes from `dump`.
async fn two_replicas_share_keys_budgets_and_revocation<F, Fut>(state: &str, dump: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let upstream = FakeUpstream::start().await;
    let usage = json!({"prompt_tokens": 1000, "completion_tokens": 250, "total_tokens": 1250});
    upstream.on_key(
        OPENAI_KEY,
        [Reply::json(200, json!({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "usage": usage,
        }))],
    );
    let env = env(&upstream);
    let args = ["--state", state, "--log", "debug"];
    let a = serve(&env, &args).await;
    let b = serve(&env, &args).await;

    // Made on A, it serves on B at once.
    let (status, made) = admin(
        &a.url,
        reqwest::Method::POST,
        "/virtual-keys",
        Some(json!({
            "name": "alice", "team": "research", "budget_usd": {"day": 0.01},
        })),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let (id, secret) = (
        made["id"].as_str().unwrap().to_owned(),
        made["key"].as_str().unwrap().to_owned(),
    );
    assert_eq!(
        spend(&b.url, &secret).await,
        200,
        "B serves A's new key at once"
    );
    assert_eq!(spend(&a.url, &secret).await, 200);
    assert_eq!(spend(&b.url, &secret).await, 200);
    // A spent $0.004 and B $0.008: neither alone reached $0.01, together
    // they did, and both refuse.
    for (name, url) in [("A", &a.url), ("B", &b.url)] {
        eventually_async(
            &format!("{name} refuses the spent key"),
            Duration::from_secs(2),
            || async { spend(url, &secret).await == 429 },
        )
        .await;
    }
    assert_eq!(upstream.hits(OPENAI_KEY), 3, "one budget, three answers");

    // Deleted on A: refused by both within 2 s.
    let (_, other) = admin(
        &a.url,
        reqwest::Method::POST,
        "/virtual-keys",
        Some(json!({"name": "bob"})),
    )
    .await;
    let (bob_id, bob) = (
        other["id"].as_str().unwrap().to_owned(),
        other["key"].as_str().unwrap().to_owned(),
    );
    assert_eq!(spend(&a.url, &bob).await, 200);
    assert_eq!(spend(&b.url, &bob).await, 200);
    let deleted_at = Instant::now();
    let (status, _) = admin(
        &a.url,
        reqwest::Method::DELETE,
        &format!("/virtual-keys/{bob_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        spend(&a.url, &bob).await,
        401,
        "refused at once where it was deleted"
    );
    eventually_async(
        "B refuses the deleted key",
        Duration::from_secs(2),
        || async { spend(&b.url, &bob).await == 401 },
    )
    .await;
    assert!(deleted_at.elapsed() < Duration::from_secs(2));

    // Every figure survives a restart of both.
    let (_, before) = admin(&b.url, reqwest::Method::GET, "/spend?by=key", None).await;
    let (_, models_before) = admin(&b.url, reqwest::Method::GET, "/spend?by=model", None).await;
    let metrics = client()
        .get(format!("{}/metrics", a.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (_, request_log) = admin(&a.url, reqwest::Method::GET, "/requests", None).await;
    let mut logs = stop(a).await;
    logs.extend(stop(b).await);
    let restarted = serve(&env, &args).await;
    let (_, after) = admin(&restarted.url, reqwest::Method::GET, "/spend?by=key", None).await;
    let (_, models_after) = admin(
        &restarted.url,
        reqwest::Method::GET,
        "/spend?by=model",
        None,
    )
    .await;
    assert_eq!(before, after, "spend by key after a restart");
    assert_eq!(models_before, models_after);
    let alice = &after["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == id.as_str())
        .unwrap()
        .clone();
    assert!(
        (alice["usd"].as_f64().unwrap() - 0.012).abs() < 1e-9,
        "{after}"
    );
    assert_eq!(
        spend(&restarted.url, &secret).await,
        429,
        "the budget holds after a restart"
    );
    let (_, view) = admin(
        &restarted.url,
        reqwest::Method::GET,
        &format!("/virtual-keys/{id}"),
        None,
    )
    .await;
    assert!(
        (view["spend"]["day"]["usd"].as_f64().unwrap() - 0.012).abs() < 1e-9,
        "{view}"
    );
    logs.extend(stop(restarted).await);

    // The secrets are nowhere but in the answers that made them.
    let stored = dump().await;
    let texts = [stored, logs.join("\n"), metrics, request_log.to_string()];
    for text in &texts {
        assert!(!text.is_empty());
        for secret in [&secret, &bob] {
            assert!(!text.contains(secret.as_str()), "a secret leaked");
            assert!(!text.contains(&secret[3..20]), "part of a secret leaked");
        }
    }
    assert!(texts[1].contains("alice"), "the log names the key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_share_virtual_keys_budgets_and_revocation() {
    let server = RedisServer::start().await;
    let url = server.url();
    two_replicas_share_keys_budgets_and_revocation(&url, || redis_dump(&url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_one_sqlite_file_share_virtual_keys_budgets_and_revocation() {
    let dir = TempDir::new("team-replicas");
    let state = format!("sqlite:{}", dir.join("state.db").display());
    let dump = || async {
        let mut bytes = Vec::new();
        for file in std::fs::read_dir(&dir.0).unwrap() {
            bytes.extend(std::fs::read(file.unwrap().path()).unwrap());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    };
    two_replicas_share_keys_budgets_and_revocation(&state, dump).await;
}

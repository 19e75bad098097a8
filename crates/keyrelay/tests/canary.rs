//! Live canaries: a deliberately bogus key goes to each real provider's
//! cheapest endpoint (a model list, or a tiny request the provider rejects
//! before running it) and classification must still call the answer
//! `key_invalid`. They catch a provider changing its error shape, which the
//! stored fixtures cannot. They need the network and are ignored by default:
//!
//! ```text
//! cargo test -p keyrelay --test canary -- --ignored
//! ```
//!
//! The base-URL environment overrides of DESIGN §3 are honoured, so the same
//! canaries can point at a compatible vendor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use keypool::OutcomeClass;
use keyrelay::dialect::{classify, Dialect};
use keyrelay::redact::redact;

/// Obviously not a key: no provider will ever issue it.
const BOGUS_KEY: &str = "keyrelay-canary-invalid-key";

/// The classifier only ever sees this much of a body.
const BODY_LIMIT: usize = 64 * 1024;

fn base_url(env: &str, default: &str) -> String {
    let url = std::env::var(env).ok().filter(|v| !v.trim().is_empty());
    url.unwrap_or_else(|| default.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// Sends the request and asserts the answer classifies as `key_invalid`.
async fn expect_key_invalid(dialect: Dialect, request: reqwest::RequestBuilder) {
    let response = request.send().await.expect("the provider did not answer");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.expect("response body");
    let body = &body[..body.len().min(BODY_LIMIT)];
    let outcome = classify(dialect, status, &headers, body, SystemTime::now());
    // The body is shown only after redaction: providers echo (masked) keys.
    let shown = redact(body, BOGUS_KEY);
    assert_eq!(
        outcome.class,
        OutcomeClass::KeyInvalid,
        "{dialect:?} answered {status} ({outcome:?}): {}",
        String::from_utf8_lossy(&shown)
    );
    assert!(
        !String::from_utf8_lossy(&shown).contains(BOGUS_KEY),
        "redaction missed the key"
    );
}

#[tokio::test]
#[ignore = "needs the network: cargo test -p keyrelay --test canary -- --ignored"]
async fn anthropic_rejects_a_bogus_key() {
    let url = format!(
        "{}/v1/models",
        base_url("ANTHROPIC_UPSTREAM_BASE_URL", "https://api.anthropic.com")
    );
    let request = client()
        .get(url)
        .header("x-api-key", BOGUS_KEY)
        .header("anthropic-version", "2023-06-01");
    expect_key_invalid(Dialect::Anthropic, request).await;
}

#[tokio::test]
#[ignore = "needs the network: cargo test -p keyrelay --test canary -- --ignored"]
async fn openai_rejects_a_bogus_key() {
    let url = format!(
        "{}/models",
        base_url("OPENAI_BASE_URL", "https://api.openai.com/v1")
    );
    expect_key_invalid(
        Dialect::OpenaiChat,
        client().get(url).bearer_auth(BOGUS_KEY),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the network: cargo test -p keyrelay --test canary -- --ignored"]
async fn gemini_rejects_a_bogus_key() {
    let base = base_url(
        "GEMINI_BASE_URL",
        "https://generativelanguage.googleapis.com/v1beta",
    );
    // The key goes in a header, never in `?key=` (DESIGN §3).
    let request = client()
        .get(format!("{base}/models"))
        .header("x-goog-api-key", BOGUS_KEY);
    expect_key_invalid(Dialect::Gemini, request).await;
}

#[tokio::test]
#[ignore = "needs the network: cargo test -p keyrelay --test canary -- --ignored"]
async fn openrouter_rejects_a_bogus_key() {
    // The model list is public on OpenRouter; the key-info endpoint is not.
    let url = format!(
        "{}/key",
        base_url("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1")
    );
    expect_key_invalid(
        Dialect::Openrouter,
        client().get(url).bearer_auth(BOGUS_KEY),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the network: cargo test -p keyrelay --test canary -- --ignored"]
async fn ollama_cloud_rejects_a_bogus_key() {
    let url = format!(
        "{}/api/chat",
        base_url("OLLAMA_CLOUD_BASE_URL", "https://ollama.com")
    );
    let tiny = serde_json::json!({
        "model": "gpt-oss:20b",
        "messages": [{ "role": "user", "content": "hi" }],
        "stream": false,
        "options": { "num_predict": 1 }
    });
    let request = client()
        .post(url)
        .bearer_auth(BOGUS_KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(tiny.to_string());
    expect_key_invalid(Dialect::Ollama, request).await;
}

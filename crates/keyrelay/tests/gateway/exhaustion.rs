//! When no key can serve, keyrelay answers itself, in the client's API
//! shape: the last upstream status kept, the provider's message quoted, and
//! every attempt listed (fingerprint, class, status, reset hint) in the body
//! and in `x-keyrelay-attempt-log`. Never a key, not even in part.

use serde_json::Value;
use testkit::{FakeUpstream, Reply};

use super::*;

/// Keys whose every 8-character run is distinctive, so a leak is unmistakable.
const REVOKED: &str = "test-exhaust-RevokedQz-0001";
const BROKEN: &str = "test-exhaust-BrokenXw-0002";
const BUSY: &str = "test-exhaust-BusyKeyJv-0003";
const BUSY_TOO: &str = "test-exhaust-BusyTooMp-0004";

/// Fails if any 8-character run of a key's distinctive part is in `seen`.
fn assert_no_key_material(seen: &str) {
    for key in [REVOKED, BROKEN, BUSY, BUSY_TOO] {
        let secret: Vec<char> = key["test-exhaust-".len()..].chars().collect();
        for window in secret.windows(8) {
            let fragment: String = window.iter().collect();
            assert!(!seen.contains(&fragment), "`{fragment}` of a key in {seen}");
        }
    }
}

/// Headers and body as one text, for the leak check.
async fn everything(response: reqwest::Response) -> (String, Value) {
    let headers = format!("{:?}", response.headers());
    let body = response.text().await.unwrap();
    let json = serde_json::from_str(&body).expect("a JSON error");
    (format!("{headers}\n{body}"), json)
}

fn shown(key: &str) -> String {
    fingerprint(key).replace('…', "...")
}

#[tokio::test]
async fn an_exhausted_pool_names_every_attempt_in_the_anthropic_shape() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        REVOKED,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(BROKEN, [Reply::reset()]);
    upstream.on_key(
        BUSY,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    let keys = [REVOKED, BROKEN, BUSY].join(",");
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", keys.as_str()),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    // The last attempt's status and retry-after.
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "30");
    assert_eq!(attempts(&response), 3);
    assert_eq!(header(&response, "x-keyrelay-key"), shown(BUSY));
    assert_eq!(
        header(&response, "x-keyrelay-attempt-log"),
        format!(
            "anthropic:{}=key_invalid/401, anthropic:{}=transient/-, anthropic:{}=rate_limited/429/30s",
            shown(REVOKED),
            shown(BROKEN),
            shown(BUSY)
        )
    );
    let (seen, body) = everything(response).await;
    assert_no_key_material(&seen);
    assert_eq!(body["type"], "error");
    let error = &body["error"];
    assert_eq!(error["type"], "rate_limit_error");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("keyrelay: anthropic could not serve it: 3 attempt(s) failed; the last answered HTTP 429 (rate_limited): "),
        "{message}"
    );
    assert!(
        message.contains("rate limit"),
        "the provider's own words: {message}"
    );
    let entry = |key: &str, class: &str, status: Value, retry: Value| {
        serde_json::json!({"provider": "anthropic", "key": fingerprint(key), "class": class,
                           "status": status, "retry_after_s": retry})
    };
    let attempts: Vec<Value> = error["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut a = a.clone();
            a.as_object_mut().unwrap().remove("reason");
            a
        })
        .collect();
    assert_eq!(
        attempts,
        [
            entry(REVOKED, "key_invalid", 401.into(), Value::Null),
            entry(BROKEN, "transient", Value::Null, Value::Null),
            entry(BUSY, "rate_limited", 429.into(), 30.into()),
        ]
    );
}

#[tokio::test]
async fn an_exhausted_passthrough_answers_in_the_gemini_shape() {
    let upstream = FakeUpstream::start().await;
    let limited = || Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json");
    upstream.on_key(BUSY, [limited()]);
    upstream.on_key(BUSY_TOO, [limited()]);
    let keys = format!("{BUSY},{BUSY_TOO}");
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", keys.as_str()),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = client()
        .post(format!(
            "{}/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            gateway.url()
        ))
        .json(&serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    // Gemini's RetryInfo says 58s; no retry-after header came.
    assert_eq!(header(&response, "retry-after"), "58");
    assert_eq!(
        header(&response, "x-keyrelay-attempt-log"),
        format!(
            "gemini:{}=rate_limited/429/58s, gemini:{}=rate_limited/429/58s",
            shown(BUSY),
            shown(BUSY_TOO)
        )
    );
    let (seen, body) = everything(response).await;
    assert_no_key_material(&seen);
    let error = &body["error"];
    assert_eq!(
        (error["code"].as_u64(), error["status"].as_str()),
        (Some(429), Some("RESOURCE_EXHAUSTED"))
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "keyrelay: gemini could not serve it: 2 attempt(s) failed; the last answered HTTP 429 (rate_limited)"
        ),
        "{message}"
    );
    assert!(message.contains("quota"), "Gemini's own words: {message}");
    let keys: Vec<&str> = error["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, [fingerprint(BUSY), fingerprint(BUSY_TOO)]);
}

#[tokio::test]
async fn an_exhausted_openai_passthrough_answers_in_the_openai_shape() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        REVOKED,
        [Reply::fixture(
            401,
            "fixtures/errors/openai_invalid_key.json",
        )],
    );
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", REVOKED),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = client()
        .post(format!("{}/p/openai/chat/completions", gateway.url()))
        .json(&serde_json::json!({"model": "gpt-4.1", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let (seen, body) = everything(response).await;
    assert_no_key_material(&seen);
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["attempts"][0]["class"], "key_invalid");
    assert_eq!(body["error"]["attempts"][0]["status"], 401);
}

#[tokio::test]
async fn a_refusal_before_any_attempt_lists_no_attempts() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        BUSY,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", BUSY),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(first.status(), 429);
    let second = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((second.status().as_u16(), attempts(&second)), (429, 0));
    assert!(second.headers().get("x-keyrelay-attempt-log").is_none());
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["error"]["attempts"], serde_json::json!([]));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cooling"));
}

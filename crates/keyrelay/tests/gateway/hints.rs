//! Every provider hint a 429 can carry becomes the key's cooldown, which the
//! next request's refusal reports as `retry-after`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

/// Sends one request that meets the 429, then one that keyrelay refuses;
/// returns the refusal's retry-after in seconds.
async fn cooldown_after(
    provider_env: &[(&str, String)],
    path: &str,
    reply: Reply,
    upstream: &FakeUpstream,
) -> u64 {
    upstream.on_key(LIMITED, [reply]);
    let env: Vec<(&str, &str)> = provider_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = start(&env, "").await;
    let url = format!("{}{path}", gateway.url());
    let first = client()
        .post(&url)
        .json(&json!({"model": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 429);
    let second = client()
        .post(&url)
        .json(&json!({"model": "m"}))
        .send()
        .await
        .unwrap();
    assert_eq!((second.status().as_u16(), attempts(&second)), (429, 0));
    assert_eq!(upstream.hits(LIMITED), 1);
    header(&second, "retry-after").parse().unwrap()
}

fn openai(upstream: &FakeUpstream) -> Vec<(&'static str, String)> {
    vec![
        ("OPENAI_API_KEYS", LIMITED.into()),
        ("OPENAI_BASE_URL", upstream.base_url()),
    ]
}

fn in_secs(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_an_http_date() {
    let upstream = FakeUpstream::start().await;
    let reply = Reply::json(
        429,
        json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
    );
    let secs = cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply.header("retry-after", "42"),
        &upstream,
    )
    .await;
    assert_eq!(secs, 42);

    let upstream = FakeUpstream::start().await;
    let date = httpdate::fmt_http_date(in_secs(120));
    let reply = Reply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
        .header("retry-after", &date);
    let secs = cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply,
        &upstream,
    )
    .await;
    assert!((118..=121).contains(&secs), "{secs}");
}

#[tokio::test]
async fn retry_after_ms_and_openai_reset_durations() {
    let upstream = FakeUpstream::start().await;
    let body = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
    let reply = Reply::json(429, body.clone()).header("retry-after-ms", "7500");
    assert_eq!(
        cooldown_after(
            &openai(&upstream),
            "/p/openai/chat/completions",
            reply,
            &upstream
        )
        .await,
        8
    );

    let upstream = FakeUpstream::start().await;
    let reply = Reply::json(429, body)
        .header("x-ratelimit-reset-requests", "6m0s")
        .header("x-ratelimit-reset-tokens", "1s");
    assert_eq!(
        cooldown_after(
            &openai(&upstream),
            "/p/openai/chat/completions",
            reply,
            &upstream
        )
        .await,
        360
    );
}

#[tokio::test]
async fn anthropic_ratelimit_reset_stamps() {
    let upstream = FakeUpstream::start().await;
    let reset = chrono_like_rfc3339(in_secs(90));
    let reply = Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
        .header("anthropic-ratelimit-requests-reset", &reset)
        .header("retry-after", "3");
    let env = vec![
        ("ANTHROPIC_API_KEYS", LIMITED.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ];
    let secs = cooldown_after(&env, "/p/anthropic/v1/messages", reply, &upstream).await;
    assert!((88..=91).contains(&secs), "the longest hint wins: {secs}");
}

#[tokio::test]
async fn openrouter_reset_in_epoch_milliseconds() {
    let upstream = FakeUpstream::start().await;
    let at_ms = in_secs(50).duration_since(UNIX_EPOCH).unwrap().as_millis();
    let reply = Reply::fixture(429, "fixtures/errors/openrouter_rate_limit.json")
        .header("x-ratelimit-limit", "20")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", &at_ms.to_string());
    let env = vec![
        ("OPENROUTER_API_KEYS", LIMITED.to_owned()),
        ("OPENROUTER_BASE_URL", upstream.base_url()),
    ];
    let secs = cooldown_after(&env, "/p/openrouter/chat/completions", reply, &upstream).await;
    assert!((48..=51).contains(&secs), "{secs}");
}

#[tokio::test]
async fn gemini_retry_info_and_the_per_day_quota() {
    let gemini = |upstream: &FakeUpstream| {
        vec![
            ("GEMINI_API_KEYS", LIMITED.to_owned()),
            ("GEMINI_BASE_URL", upstream.base_url()),
        ]
    };
    let path = "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent";
    let upstream = FakeUpstream::start().await;
    let reply = Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json");
    let per_minute = cooldown_after(&gemini(&upstream), path, reply, &upstream).await;
    assert!(
        (1..=60).contains(&per_minute),
        "RetryInfo.retryDelay: {per_minute}"
    );

    let upstream = FakeUpstream::start().await;
    let reply = Reply::fixture(429, "fixtures/errors/gemini_per_day_quota.json");
    let per_day = cooldown_after(&gemini(&upstream), path, reply, &upstream).await;
    let until_midnight = keypool::hints::until_pacific_midnight(SystemTime::now()).as_secs();
    assert!(
        per_day + 2 >= until_midnight && per_day <= until_midnight + 60,
        "{per_day} vs {until_midnight}"
    );
}

#[tokio::test]
async fn a_402_cools_the_key_for_hours() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            402,
            "fixtures/errors/openrouter_no_credit.json",
        )],
    );
    let env = [
        ("OPENROUTER_API_KEYS", LIMITED.to_owned()),
        ("OPENROUTER_BASE_URL", upstream.base_url()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = start(&env, "").await;
    let url = format!("{}/p/openrouter/chat/completions", gateway.url());
    assert_eq!(
        client()
            .post(&url)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .status(),
        402
    );
    let refused = client().post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(refused.status(), 429);
    assert!(header(&refused, "retry-after").parse::<u64>().unwrap() >= 3600);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cooling"),
        "OpenAI shape: {body}"
    );
}

/// RFC 3339 in UTC without pulling a date library into the tests.
fn chrono_like_rfc3339(at: SystemTime) -> String {
    let date = httpdate::fmt_http_date(at);
    // "Sun, 06 Nov 1994 08:49:37 GMT" → "1994-11-06T08:49:37Z"
    let parts: Vec<&str> = date.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])
    .unwrap()
        + 1;
    format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4])
}

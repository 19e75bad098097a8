//! Every provider hint a 429 can carry becomes the key's cooldown, which the
//! next request's refusal reports as `retry-after`.
//!
//! The expected `retry-after` is worked out from the wall time read just
//! before the 429 and just after the refusal, not from a fixed margin.

use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

/// A refusal's `retry-after`, and the wall time around the request that met
/// the 429 and the one refused.
struct Refusal {
    retry_after: u64,
    /// Unix milliseconds just before the first request.
    from_ms: u64,
    /// Unix milliseconds just after the refusal.
    to_ms: u64,
}

/// The gateway reads the wall clock once and then follows its monotonic clock
/// in whole milliseconds, so its reading may differ from ours by a few.
const CLOCK_SLACK_MS: u64 = 5;

impl Refusal {
    /// Asserts `retry-after` counts down a cooldown of `hint` from the 429:
    /// `hint`, less the time between the 429 and the refusal, rounded up.
    fn assert_counts_down(&self, hint: Duration) {
        let hint = ms(hint);
        let longest_gap = self.to_ms - self.from_ms + CLOCK_SLACK_MS;
        self.assert_within(secs_up(hint.saturating_sub(longest_gap))..=secs_up(hint));
    }

    /// Asserts `retry-after` counts down to `deadline`: the time from the
    /// refusal to it, rounded up.
    fn assert_until(&self, deadline: SystemTime) {
        let deadline = unix_ms(deadline);
        let soonest = deadline.saturating_sub(self.to_ms + CLOCK_SLACK_MS);
        let latest = deadline.saturating_sub(self.from_ms) + CLOCK_SLACK_MS;
        self.assert_within(secs_up(soonest)..=secs_up(latest));
    }

    fn assert_within(&self, expected: RangeInclusive<u64>) {
        assert!(
            expected.contains(&self.retry_after),
            "retry-after {} s, expected {expected:?} (requests took {} ms)",
            self.retry_after,
            self.to_ms - self.from_ms
        );
    }
}

/// Whole seconds, rounded up, at least one: how a refusal states a wait.
fn secs_up(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

fn ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap()
}

fn unix_ms(at: SystemTime) -> u64 {
    ms(at.duration_since(UNIX_EPOCH).unwrap())
}

/// Sends one request that meets the 429, then one that keyrelay refuses.
async fn cooldown_after(
    provider_env: &[(&str, String)],
    path: &str,
    reply: Reply,
    upstream: &FakeUpstream,
) -> Refusal {
    upstream.on_key(LIMITED, [reply]);
    let env: Vec<(&str, &str)> = provider_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let gateway = start(&env, "").await;
    let url = format!("{}{path}", gateway.url());
    let from_ms = unix_ms(SystemTime::now());
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
    let to_ms = unix_ms(SystemTime::now());
    assert_eq!((second.status().as_u16(), attempts(&second)), (429, 0));
    assert_eq!(upstream.hits(LIMITED), 1);
    Refusal {
        retry_after: header(&second, "retry-after").parse().unwrap(),
        from_ms,
        to_ms,
    }
}

fn openai(upstream: &FakeUpstream) -> Vec<(&'static str, String)> {
    vec![
        ("OPENAI_API_KEYS", LIMITED.into()),
        ("OPENAI_BASE_URL", upstream.base_url()),
    ]
}

/// A whole second `secs` seconds or a little more from now: HTTP dates and
/// RFC 3339 stamps carry whole seconds, so the hint is exactly this instant.
fn whole_second_in(secs: u64) -> SystemTime {
    let now = unix_ms(SystemTime::now());
    UNIX_EPOCH + Duration::from_secs(now.div_ceil(1000) + secs)
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_an_http_date() {
    let upstream = FakeUpstream::start().await;
    let reply = Reply::json(
        429,
        json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
    );
    cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply.header("retry-after", "42"),
        &upstream,
    )
    .await
    .assert_counts_down(Duration::from_secs(42));

    let upstream = FakeUpstream::start().await;
    let at = whole_second_in(120);
    let date = httpdate::fmt_http_date(at);
    let reply = Reply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
        .header("retry-after", &date);
    cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply,
        &upstream,
    )
    .await
    .assert_until(at);
}

#[tokio::test]
async fn retry_after_ms_and_openai_reset_durations() {
    let upstream = FakeUpstream::start().await;
    let body = json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}});
    let reply = Reply::json(429, body.clone()).header("retry-after-ms", "7500");
    cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply,
        &upstream,
    )
    .await
    .assert_counts_down(Duration::from_millis(7_500));

    let upstream = FakeUpstream::start().await;
    let reply = Reply::json(429, body)
        .header("x-ratelimit-reset-requests", "6m0s")
        .header("x-ratelimit-reset-tokens", "1s");
    cooldown_after(
        &openai(&upstream),
        "/p/openai/chat/completions",
        reply,
        &upstream,
    )
    .await
    .assert_counts_down(Duration::from_secs(360));
}

#[tokio::test]
async fn anthropic_ratelimit_reset_stamps() {
    let upstream = FakeUpstream::start().await;
    let at = whole_second_in(90);
    let reset = chrono_like_rfc3339(at);
    let reply = Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
        .header("anthropic-ratelimit-requests-reset", &reset)
        .header("retry-after", "3");
    let env = vec![
        ("ANTHROPIC_API_KEYS", LIMITED.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ];
    // The longest hint wins.
    cooldown_after(&env, "/p/anthropic/v1/messages", reply, &upstream)
        .await
        .assert_until(at);
}

#[tokio::test]
async fn openrouter_reset_in_epoch_milliseconds() {
    let upstream = FakeUpstream::start().await;
    let at = whole_second_in(50);
    let at_ms = unix_ms(at);
    let reply = Reply::fixture(429, "fixtures/errors/openrouter_rate_limit.json")
        .header("x-ratelimit-limit", "20")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", &at_ms.to_string());
    let env = vec![
        ("OPENROUTER_API_KEYS", LIMITED.to_owned()),
        ("OPENROUTER_BASE_URL", upstream.base_url()),
    ];
    cooldown_after(&env, "/p/openrouter/chat/completions", reply, &upstream)
        .await
        .assert_until(at);
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
    // The fixture's RetryInfo.retryDelay.
    cooldown_after(&gemini(&upstream), path, reply, &upstream)
        .await
        .assert_counts_down(Duration::from_secs(58));

    let upstream = FakeUpstream::start().await;
    let reply = Reply::fixture(429, "fixtures/errors/gemini_per_day_quota.json");
    let per_day = cooldown_after(&gemini(&upstream), path, reply, &upstream).await;
    // Until the quota's day ends (unless it ends while the test runs).
    let at = UNIX_EPOCH + Duration::from_millis(per_day.from_ms);
    per_day.assert_until(at + keypool::hints::until_pacific_midnight(at));
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

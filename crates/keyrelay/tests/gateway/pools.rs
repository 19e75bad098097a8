//! The pool's finer rules through the gateway: per-model cooldowns, quota
//! groups, client-side budgets, session affinity, disabled keys re-checked.

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

fn gemini_answer(text: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
        }),
    )
}

fn per_day_quota() -> Reply {
    Reply::fixture(429, "fixtures/errors/gemini_per_day_quota.json")
}

/// Answers 429 (the fixture) for `model`, and normally for any other.
fn quota_for(upstream: &FakeUpstream, key: &str, model: &'static str) {
    upstream.on_key_with(key, move |request| {
        if request.path.contains(model) {
            per_day_quota()
        } else {
            gemini_answer("hi")
        }
    });
}

fn key_header(response: &reqwest::Response) -> String {
    header(response, "x-keyrelay-key").to_owned()
}

#[tokio::test]
async fn a_gemini_key_over_its_daily_quota_for_one_model_serves_another_on_the_first_attempt() {
    let upstream = FakeUpstream::start().await;
    quota_for(&upstream, LIMITED, "gemini-2.5-pro");
    upstream.on_key(GOOD, [gemini_answer("hi")]);
    let base = upstream.base_url();
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = start(
        &[("GEMINI_API_KEYS", &keys), ("GEMINI_BASE_URL", &base)],
        "",
    )
    .await;

    let pro = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
    assert_eq!((pro.status().as_u16(), attempts(&pro)), (200, 2));
    let good = key_header(&pro);

    let flash = post_messages(&gateway, &message_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!((flash.status().as_u16(), attempts(&flash)), (200, 1));
    assert!(
        key_header(&flash).starts_with("...0002#"),
        "the key over its pro quota serves flash: {}",
        key_header(&flash)
    );

    for _ in 0..3 {
        let pro = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
        assert_eq!((pro.status().as_u16(), attempts(&pro)), (200, 1));
        assert_eq!(key_header(&pro), good);
    }
    let pro_on_limited = upstream
        .requests_with_key(LIMITED)
        .iter()
        .filter(|r| r.path.contains("gemini-2.5-pro"))
        .count();
    assert_eq!(pro_on_limited, 1, "pro is not asked of the key again");

    // Native requests name the model in their path: the same scope holds.
    let native = client()
        .post(format!(
            "{}/p/gemini/v1beta/models/gemini-2.5-pro:generateContent",
            gateway.url()
        ))
        .json(&json!({"contents": [{"parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!((native.status().as_u16(), attempts(&native)), (200, 1));
    assert_eq!(key_header(&native), good);
}

#[tokio::test]
async fn after_a_project_quota_429_the_groups_other_keys_are_not_tried_for_that_model() {
    const SAME_PROJECT: &str = "test-key-limited-000000000005";
    let upstream = FakeUpstream::start().await;
    quota_for(&upstream, LIMITED, "gemini-2.5-pro");
    quota_for(&upstream, SAME_PROJECT, "gemini-2.5-pro");
    upstream.on_key(GOOD, [gemini_answer("hi")]);
    let base = upstream.base_url();
    let config = format!(
        r#"
[providers.gemini]
keys = [
  {{ key = "{LIMITED}", group = "project-a" }},
  {{ key = "{SAME_PROJECT}", group = "project-a" }},
  {{ key = "{GOOD}", group = "project-b" }},
]
"#
    );
    let gateway = start(&[("GEMINI_BASE_URL", &base)], &config).await;

    let pro = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
    assert_eq!((pro.status().as_u16(), attempts(&pro)), (200, 2));
    assert_eq!(
        upstream.hits(SAME_PROJECT),
        0,
        "its project's quota is spent"
    );
    let pro = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
    assert_eq!((pro.status().as_u16(), attempts(&pro)), (200, 1));
    assert_eq!(
        (upstream.hits(LIMITED), upstream.hits(SAME_PROJECT)),
        (1, 0)
    );

    // The group serves other models as before.
    let flash = post_messages(&gateway, &message_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!((flash.status().as_u16(), attempts(&flash)), (200, 1));
    assert!(key_header(&flash).starts_with("...0002#"));
}

#[tokio::test]
async fn claude_code_sessions_each_keep_one_key_and_spread_over_the_pool() {
    let keys = [
        GOOD,
        "test-key-good-00000000000011",
        "test-key-good-00000000000012",
        "test-key-good-00000000000013",
    ];
    let upstream = FakeUpstream::start().await;
    for key in keys {
        upstream.on_key(key, [Reply::json(200, anthropic_message("hi"))]);
    }
    let base = upstream.base_url();
    let joined = keys.join(",");
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", &joined),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &base),
        ],
        "",
    )
    .await;
    let send = |session: String| {
        client()
            .post(format!("{}/v1/messages", gateway.url()))
            .header("x-claude-code-session-id", session)
            .json(&message_request("claude-sonnet-4-5", false))
            .send()
    };
    let mut home = std::collections::HashMap::new();
    for round in 0..3 {
        for i in 0..20 {
            let session = format!("5f0e7a52-1c2b-4d3e-9f40-{i:012}");
            let response = send(session.clone()).await.unwrap();
            assert_eq!(response.status(), 200);
            let key = key_header(&response);
            let first = home.entry(session).or_insert_with(|| key.clone());
            assert_eq!(*first, key, "round {round}: the session changed keys");
        }
    }
    let used: std::collections::HashSet<&String> = home.values().collect();
    assert!(used.len() >= 3, "20 sessions used {used:?}");

    // Without a session, requests keep today's sticky key.
    let mut sticky = std::collections::HashSet::new();
    for _ in 0..5 {
        let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
        sticky.insert(key_header(&response));
    }
    assert_eq!(sticky.len(), 1);
}

#[tokio::test]
async fn session_affinity_can_be_turned_off() {
    let keys = [
        GOOD,
        "test-key-good-00000000000011",
        "test-key-good-00000000000012",
    ];
    let upstream = FakeUpstream::start().await;
    let base = upstream.base_url();
    let joined = keys.join(",");
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", &joined),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &base),
        ],
        "[pool]\nsession_affinity = false\n",
    )
    .await;
    for key in keys {
        upstream.on_key(key, [Reply::json(200, anthropic_message("hi"))]);
    }
    let mut used = std::collections::HashSet::new();
    for i in 0..20 {
        let response = client()
            .post(format!("{}/v1/messages", gateway.url()))
            .header("x-keyrelay-session", format!("session-{i}"))
            .json(&message_request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        used.insert(key_header(&response));
    }
    assert_eq!(used.len(), 1, "sticky: {used:?}");
}

#[tokio::test]
async fn with_rpm_2_the_third_request_in_a_minute_goes_to_the_next_key_without_a_429() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    upstream.on_key(LIMITED, [Reply::json(200, anthropic_message("hi"))]);
    let base = upstream.base_url();
    let keys = format!("{GOOD},{LIMITED}");
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", &keys),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &base),
        ],
        "[providers.anthropic]\nrpm = 2\n",
    )
    .await;
    let mut served = Vec::new();
    for _ in 0..4 {
        let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
        assert_eq!((response.status().as_u16(), attempts(&response)), (200, 1));
        served.push(key_header(&response)[..7].to_owned());
    }
    assert_eq!(served, ["...0003", "...0003", "...0002", "...0002"]);
    assert_eq!((upstream.hits(GOOD), upstream.hits(LIMITED)), (2, 2));

    // Every key spent: keyrelay answers 429 itself, with when to come back.
    let refused = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((refused.status().as_u16(), attempts(&refused)), (429, 0));
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((50..=70).contains(&retry_after), "{retry_after}");
    let (kind, message) = anthropic_error(refused).await;
    assert_eq!(kind, "rate_limit_error");
    assert!(message.contains("budget"), "{message}");
    assert_eq!(
        upstream.total_hits(),
        4,
        "no request went upstream to earn a 429"
    );
}

#[tokio::test]
async fn a_key_budget_overrides_its_providers_and_tokens_count_from_usage() {
    let upstream = FakeUpstream::start().await;
    // Each answer reports 9 + 3 = 12 tokens.
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    upstream.on_key(LIMITED, [Reply::json(200, anthropic_message("hi"))]);
    let base = upstream.base_url();
    let config = format!(
        r#"
[providers.anthropic]
tpm = 30
keys = [{{ key = "{GOOD}", tpm = 1000000 }}, "{LIMITED}"]
"#
    );
    let gateway = start(&[("ANTHROPIC_UPSTREAM_BASE_URL", &base)], &config).await;
    let request = json!({"model": "claude-sonnet-4-5", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]});
    for _ in 0..5 {
        let response = post_messages(&gateway, &request).await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(upstream.hits(GOOD), 5, "sticky key with room to spare");
    // A key on the provider's 50 tokens a minute. Each request is estimated
    // at 22 tokens (88 bytes) until its answer reports 12: three fit, where
    // estimates alone would allow two.
    let gateway_b = start(
        &[("ANTHROPIC_UPSTREAM_BASE_URL", &base)],
        &format!("[providers.anthropic]\ntpm = 50\nkeys = [\"{LIMITED}\"]\n"),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post_messages(&gateway_b, &request).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

/// `RunningGateway` is how `keyrelay claude` runs its in-process gateway:
/// it too re-checks disabled keys in the background, as `serve` does.
#[tokio::test]
async fn a_disabled_key_that_works_again_comes_back_by_itself() {
    let upstream = FakeUpstream::start().await;
    let models = Reply::json(200, json!({"data": [], "has_more": false}));
    let invalid = Reply::fixture(401, "fixtures/errors/anthropic_invalid_key.json");
    upstream.on_key(INVALID, [invalid, models]);
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("ok"))]);
    let keys = format!("{INVALID},{GOOD}");
    let env = [
        ("ANTHROPIC_API_KEYS", keys.as_str()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", &upstream.base_url()),
    ];
    let gateway = start(&env, "[pool]\nrecheck_disabled_every = 0.1\n").await;
    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((first.status().as_u16(), attempts(&first)), (200, 2));

    let available = || async {
        let health: serde_json::Value = client()
            .get(format!("{}/health", gateway.url()))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (health["providers"][0]["available"] == 2).then_some(())
    };
    testkit::eventually_async(
        "the disabled key to be re-checked",
        std::time::Duration::from_secs(10),
        available,
    )
    .await;
    let check = upstream
        .requests()
        .into_iter()
        .find(|r| r.method == "GET")
        .expect("a key check was sent");
    assert_eq!(check.path, "/v1/models");
    assert_eq!(check.header("x-api-key"), Some(INVALID));
}

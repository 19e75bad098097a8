//! The pool's finer rules through the gateway: per-model cooldowns, quota
//! groups, client-side budgets, session affinity.

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

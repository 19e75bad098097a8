//! What the page shows of the pools: cooling with a live countdown, counts
//! by class, the last hour, and each request's attempts as a chain.

use std::time::Duration;

use serde_json::json;
use testkit::FakeUpstream;

use super::*;

/// 0:27 → 27, 1:02:03 → 3723.
fn seconds(clock: &str) -> u64 {
    clock
        .trim()
        .split(':')
        .fold(0, |total, part| total * 60 + part.parse::<u64>().unwrap())
}

#[tokio::test]
async fn a_rate_limited_key_shows_cooling_with_a_countdown_that_goes_down() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [rate_limited(90)]);
    upstream.on_key(SECOND, [served("hi")]);
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    let browser = signed_in(&gateway, DESKTOP).await;
    assert_eq!(send_message(&gateway).await, (200, fingerprint(SECOND)));

    let card = card_of(&browser, &fingerprint(FIRST)).await;
    let countdown = format!("{card} .state-line .countdown");
    let first = browser
        .wait_for_texts("the key cooling", &countdown, |t| t.first().cloned())
        .await;
    assert_eq!(browser.text(&format!("{card} .badge")).await, "cooling");
    let line = browser.text(&format!("{card} .state-line")).await;
    assert!(line.contains("rate limited"), "the class is shown: {line}");
    let first = seconds(&first);
    assert!((80..=90).contains(&first), "{first} s of 90");

    // The one real wait: the countdown moves on its own, within seconds.
    let later =
        testkit::eventually_async("the countdown to go down", Duration::from_secs(5), || {
            let browser = &browser;
            let countdown = &countdown;
            async move {
                let now = seconds(&browser.text(countdown).await);
                (now < first).then_some(now)
            }
        })
        .await;
    assert!(later >= first - 5, "{first} → {later}");
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn each_key_shows_its_counts_last_hour_and_each_request_its_chain_of_attempts() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [rate_limited(600)]);
    upstream.on_key(SECOND, [served("hi")]);
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    assert_eq!(send_message(&gateway).await.0, 200);
    assert_eq!(send_message(&gateway).await.0, 200);
    let browser = signed_in(&gateway, DESKTOP).await;

    let limited = card_of(&browser, &fingerprint(FIRST)).await;
    let good = card_of(&browser, &fingerprint(SECOND)).await;
    let stats = |card: &str| format!("{card} .stats dd");
    assert_eq!(browser.texts(&stats(&limited)).await, ["1", "1", "1", "0"]);
    assert_eq!(browser.texts(&stats(&good)).await, ["2", "0", "2", "0"]);
    let classes = browser.text(&format!("{limited} .classes")).await;
    assert!(classes.contains("rate limited 1"), "{classes}");
    let last = browser.text(&format!("{limited} .last-error")).await;
    assert!(last.starts_with("Last error: rate limited"), "{last}");
    // The last hour: one minute with a request (and a failure, for the first key).
    let bars = browser
        .js(
            "return [arguments[0], arguments[1]].map((c) => [document.querySelectorAll(c + ' .spark rect.req').length, document.querySelectorAll(c + ' .spark rect.fail').length]);",
            vec![json!(limited), json!(good)],
        )
        .await;
    assert_eq!(bars, json!([[1, 1], [1, 0]]));
    let caption = browser.text(&format!("{good} .spark figcaption")).await;
    assert_eq!(caption, "last hour: 2 req · 0 failed");

    // Newest first: the second request went straight to the second key.
    assert_eq!(browser.texts(".request").await.len(), 2);
    let attempts = |n: usize| {
        let browser = &browser;
        async move {
            browser
                .texts(&format!(".request:nth-child({n}) .chain .attempt"))
                .await
                .iter()
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        attempts(2).await,
        [
            format!("{} rate limited 429", fingerprint(FIRST)),
            format!("{} success 200", fingerprint(SECOND)),
        ]
    );
    assert_eq!(
        attempts(1).await,
        [format!("{} success 200", fingerprint(SECOND))]
    );
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_key_over_its_quota_for_one_model_shows_that_model_cooling_and_stays_available() {
    let upstream = FakeUpstream::start().await;
    let gemini_answer = || {
        testkit::Reply::json(
            200,
            json!({
                "candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 2, "totalTokenCount": 7},
            }),
        )
    };
    upstream.on_key_with(FIRST, move |request| {
        if request.path.contains("gemini-2.5-pro") {
            testkit::Reply::fixture(429, "fixtures/errors/gemini_per_day_quota.json")
        } else {
            gemini_answer()
        }
    });
    upstream.on_key(SECOND, [gemini_answer()]);
    let keys = format!("{FIRST},{SECOND}");
    let base = upstream.base_url();
    let config = format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n");
    let gateway = start(
        &[("GEMINI_API_KEYS", &keys), ("GEMINI_BASE_URL", &base)],
        &config,
    )
    .await;
    let response = client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": "gemini@gemini-2.5-pro",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello"}],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let browser = signed_in(&gateway, DESKTOP).await;

    let card = card_of(&browser, &fingerprint(FIRST)).await;
    assert_eq!(browser.text(&format!("{card} .badge")).await, "available");
    let cooling = browser.texts(&format!("{card} .model-cooldowns li")).await;
    assert_eq!(cooling.len(), 1, "{cooling:?}");
    let (model, rest) = cooling[0].split_once(": cooling ").unwrap();
    assert_eq!(model, "gemini-2.5-pro");
    let (clock, class) = rest.split_once(" · ").unwrap();
    assert!(seconds(clock) > 0, "until the quota's day ends: {clock}");
    assert_eq!(class, "daily quota");
    browser.close().await;
    gateway.stop().await;
}

//! Budgets and rate limits that hold: a key is refused after the request
//! that reaches its budget, with a 429 in the client's shape naming the
//! budget, what is spent and when it resets; concurrent requests overshoot
//! by at most the ones in flight; a new UTC day serves again.
//!
//! Each answer costs $0.004: 1000 input and 250 output tokens of
//! openai@gpt-4.1 ($2 and $8 per million).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

use super::*;

const EACH_USD: f64 = 0.004;

fn costly() -> Reply {
    Reply::json(200, chat_completion(openai_usage(1000, 250, 0)))
}

async fn spent_today(gateway: &RunningGateway, id: &str) -> f64 {
    let (status, view) = admin(gateway, Method::GET, &format!("/virtual-keys/{id}"), None).await;
    assert_eq!(status, 200, "{view}");
    view["spend"]["day"]["usd"].as_f64().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_daily_budget_refuses_after_the_request_that_reaches_it_and_serves_again_the_next_day() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [costly()]);
    let gateway = gateway(&upstream, "").await;
    let (id, secret) = make_key(
        &gateway,
        json!({"name": "alice", "budget_usd": {"day": 0.01}}),
    )
    .await;
    for n in 1..=3 {
        let answer = chat(&gateway, &secret, chat_body("openai@gpt-4.1", false)).await;
        assert_eq!(
            answer.status(),
            200,
            "request {n}: $0.004 each, the third reaches $0.012"
        );
    }
    for front in ["chat", "messages"] {
        let refused = match front {
            "chat" => chat(&gateway, &secret, chat_body("openai@gpt-4.1", false)).await,
            _ => messages(&gateway, &secret, "openai@gpt-4.1", false).await,
        };
        assert_eq!(refused.status(), 429, "{front}");
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let body: Value = refused.json().await.unwrap();
        let (kind, message) = error_of(&body);
        assert_eq!(kind, "rate_limit_error", "{front}: {body}");
        assert!(
            message.contains("virtual key `alice` has reached its daily budget"),
            "{message}"
        );
        assert!(message.contains("$0.0120 spent of $0.0100"), "{message}");
        let midnight = gateway.live.team().clock().now_ms() / 86_400_000 * 86_400_000 + 86_400_000;
        let reset = keyrelay::team::windows::rfc3339(midnight);
        assert!(message.contains(&format!("resets at {reset}")), "{message}");
        assert!((1..=86_400).contains(&retry_after));
    }
    assert_eq!(
        upstream.total_hits(),
        3,
        "refused requests never went upstream"
    );
    assert!((spent_today(&gateway, &id).await - 3.0 * EACH_USD).abs() < 1e-9);

    // The UTC day rolls over (a paused clock, moved to the next midnight).
    let now = gateway.live.team().clock().now_ms();
    let to_midnight = 86_400_000 - now % 86_400_000;
    tokio::time::advance(Duration::from_millis(to_midnight + 1_000)).await;
    let answer = chat(&gateway, &secret, chat_body("openai@gpt-4.1", false)).await;
    assert_eq!(answer.status(), 200, "a new day, a new budget");
}

/// Fires 16 requests at once; (answered 200, refused 429) and the 429 messages.
async fn sixteen_at_once(gateway: &RunningGateway, secret: &str) -> (usize, usize, Vec<String>) {
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let (url, secret) = (gateway.url(), secret.to_owned());
            tokio::spawn(async move {
                let answer = client()
                    .post(format!("{url}/v1/chat/completions"))
                    .bearer_auth(secret)
                    .json(&chat_body("openai@gpt-4.1", false))
                    .send()
                    .await
                    .unwrap();
                let status = answer.status().as_u16();
                let body: Value = answer.json().await.unwrap_or_default();
                (status, error_of(&body).1)
            })
        })
        .collect();
    let (mut served, mut refused, mut messages) = (0, 0, Vec::new());
    for request in requests {
        let (status, message) = request.await.unwrap();
        match status {
            200 => served += 1,
            429 => {
                refused += 1;
                messages.push(message);
            }
            other => panic!("{other}: {message}"),
        }
    }
    (served, refused, messages)
}

#[tokio::test]
async fn concurrent_requests_overshoot_a_budget_by_at_most_those_in_flight() {
    let upstream = FakeUpstream::start().await;
    // Answers take a while, so the 16 requests are in flight together.
    let slow = || {
        costly()
            .in_chunks(2)
            .chunk_delay(Duration::from_millis(300))
    };
    upstream.on_key(KEY, [slow()]);
    let gateway = gateway(&upstream, "").await;

    // A key that never spent: nothing tells what a request costs, so all
    // 16 start, and the budget is passed by what they spent in flight.
    let (fresh_id, fresh) = make_key(
        &gateway,
        json!({"name": "fresh", "budget_usd": {"day": 0.01}}),
    )
    .await;
    let (served, refused, _) = sixteen_at_once(&gateway, &fresh).await;
    assert_eq!(served + refused, 16);
    let spent = spent_today(&gateway, &fresh_id).await;
    let in_flight = served as f64 * EACH_USD;
    assert!(
        spent - 0.01 < in_flight,
        "overshoot {spent} − 0.01 ≥ what was in flight ({in_flight})"
    );
    let after = chat(&gateway, &fresh, chat_body("openai@gpt-4.1", false)).await;
    assert_eq!(after.status(), 429);

    // A key that has spent before: each request in flight holds what the
    // key's requests cost, so only those that fit start.
    let (warm_id, warm) = make_key(
        &gateway,
        json!({"name": "warm", "budget_usd": {"day": 0.01}}),
    )
    .await;
    assert_eq!(
        chat(&gateway, &warm, chat_body("openai@gpt-4.1", false))
            .await
            .status(),
        200
    );
    let (served, refused, messages) = sixteen_at_once(&gateway, &warm).await;
    // $0.004 spent; $0.004 and $0.008 held fit under $0.01, a third does not.
    assert_eq!((served, refused), (2, 14));
    assert!(
        messages.iter().all(|m| m.contains("daily budget")),
        "{messages:?}"
    );
    let spent = spent_today(&gateway, &warm_id).await;
    assert!((spent - 3.0 * EACH_USD).abs() < 1e-9, "{spent}");
    assert!(spent - 0.01 < EACH_USD, "overshoot less than one request");
}

#[tokio::test]
async fn rpm_and_tpm_refuse_with_retry_after_in_the_clients_shape() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [costly()]);
    let gateway = gateway(&upstream, "").await;
    let (_, limited) = make_key(&gateway, json!({"name": "rpm", "rpm": 2})).await;
    for _ in 0..2 {
        assert_eq!(
            chat(&gateway, &limited, chat_body("openai@gpt-4.1", false))
                .await
                .status(),
            200
        );
    }
    let refused = chat(&gateway, &limited, chat_body("openai@gpt-4.1", false)).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=70).contains(&retry_after), "{retry_after}");
    let (_, message) = error_of(&refused.json().await.unwrap());
    assert!(
        message.contains("limit of 2 requests per minute"),
        "{message}"
    );

    // 1250 tokens an answer: the second passes 2000 tokens a minute.
    let (_, tokens) = make_key(&gateway, json!({"name": "tpm", "tpm": 2000})).await;
    for _ in 0..2 {
        assert_eq!(
            chat(&gateway, &tokens, chat_body("openai@gpt-4.1", false))
                .await
                .status(),
            200
        );
    }
    let refused = messages(&gateway, &tokens, "openai@gpt-4.1", false).await;
    assert_eq!(refused.status(), 429);
    let (kind, message) = error_of(&refused.json().await.unwrap());
    assert_eq!(kind, "rate_limit_error");
    assert!(
        message.contains("limit of 2000 tokens per minute"),
        "{message}"
    );
}

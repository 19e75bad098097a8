//! LiteLLM as an upstream (the `litellm` provider, OpenAI dialect): its own
//! budget and key errors move the pool the right way.

use keypool::{KeyState, OutcomeClass};
use testkit::{FakeUpstream, Reply};

use super::*;

#[tokio::test]
async fn a_litellm_key_over_its_budget_is_parked_as_no_credit_and_the_next_key_serves() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/litellm_budget_exceeded.json",
        )],
    );
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            400,
            "fixtures/errors/litellm_no_db_connection.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::openai_chat("within budget")]);
    let keys = format!("{LIMITED},{INVALID},{GOOD}");
    let gateway = start(
        &[
            ("LITELLM_API_KEYS", keys.as_str()),
            ("LITELLM_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = post_messages(&gateway, &message_request("ll/gpt-4o", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 3));
    let log = header(&response, "x-keyrelay-attempt-log").to_owned();
    assert!(
        log.contains("=key_no_credit/429") && log.contains("=key_invalid/400"),
        "{log}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["content"][0]["text"], "within budget");

    let pool = gateway
        .live
        .gateway()
        .registry
        .get("litellm")
        .unwrap()
        .pool
        .clone();
    let state = |key: &str| {
        let shown = fingerprint(key);
        pool.snapshot()
            .into_iter()
            .find(|s| s.key.as_str() == shown)
            .unwrap()
    };
    let over_budget = state(LIMITED);
    assert_eq!(over_budget.state, KeyState::Cooling);
    assert!(
        over_budget.cooldown_remaining_ms >= 3_600_000,
        "parked for hours, not a rate limit's seconds: {} ms",
        over_budget.cooldown_remaining_ms
    );
    assert_eq!(over_budget.outcomes.get(OutcomeClass::KeyNoCredit), 1);
    assert_eq!(state(INVALID).state, KeyState::Disabled);

    let again = post_messages(&gateway, &message_request("ll/gpt-4o", false)).await;
    assert_eq!((again.status().as_u16(), attempts(&again)), (200, 1));
    assert_eq!(
        (
            upstream.hits(LIMITED),
            upstream.hits(INVALID),
            upstream.hits(GOOD)
        ),
        (1, 1, 2)
    );
}

use std::collections::BTreeMap;

use serde_json::json;

use super::spec::{Context, KeyChange};
use super::*;
use crate::store::team::MemoryTeamStore;

fn change(body: serde_json::Value, now_ms: u64) -> KeyChange {
    let providers = vec!["openai".to_owned(), "gemini".to_owned()];
    let cx = Context {
        providers: &providers,
        now_ms,
    };
    KeyChange::from_json(&body, true, &cx).unwrap()
}

fn usage(input: u64, output: u64) -> Usage {
    Usage {
        input,
        output,
        ..Usage::default()
    }
}

/// A whole answer of `usage` on openai@gpt-4.1 ($2 in, $8 out per million).
fn answer<'a>(
    grant: &'a Arc<Grant>,
    admitted: Option<Admitted>,
    prices: &'a Prices,
    usage: Usage,
) -> Answer<'a> {
    Answer {
        grant: Some(grant),
        admitted,
        prices,
        provider: Some("openai"),
        model: Some("gpt-4.1"),
        provider_key: Some("3f9c0a1b2c4d"),
        usage: Some(usage),
        estimated: false,
        success: true,
    }
}

#[tokio::test(start_paused = true)]
async fn every_kind_of_refused_key_is_told_apart() {
    let team = Team::new(Arc::new(MemoryTeamStore::new()), Clock::system());
    team.start().await;
    let now = team.clock().now_ms();
    let made = book::create(
        team.store().as_ref(),
        change(
            json!({"name": "alice", "expires_at": (now / 1000) + 3600}),
            now,
        ),
        now,
    )
    .await
    .unwrap();
    // Made through the store directly: found there on first use.
    let grant = team.authenticate(made.secret.reveal()).await.unwrap();
    assert_eq!(&*grant.name, "alice");
    assert_eq!(
        team.authenticate("kr-short").await.unwrap_err(),
        Denied::Malformed
    );
    let stranger = format!("kr-{}", "x".repeat(40));
    assert_eq!(
        team.authenticate(&stranger).await.unwrap_err(),
        Denied::Unknown
    );

    tokio::time::advance(Duration::from_secs(3601)).await;
    assert!(matches!(
        team.authenticate(made.secret.reveal()).await,
        Err(Denied::Expired { name, .. }) if name == "alice"
    ));

    let patch = KeyChange {
        disabled: Some(true),
        expires_at_ms: Some(None),
        ..KeyChange::default()
    };
    let changed = book::change(team.store().as_ref(), "alice", patch, now)
        .await
        .unwrap();
    team.learned(changed);
    assert!(matches!(
        team.authenticate(made.secret.reveal()).await,
        Err(Denied::Disabled { name }) if name == "alice"
    ));
    book::delete(team.store().as_ref(), "alice").await.unwrap();
    team.forgot(&made.key.id);
    assert_eq!(
        team.authenticate(made.secret.reveal()).await.unwrap_err(),
        Denied::Unknown
    );
}

#[tokio::test(start_paused = true)]
async fn a_daily_budget_refuses_after_the_request_that_reaches_it_until_the_next_day() {
    let team = Team::new(Arc::new(MemoryTeamStore::new()), Clock::system());
    team.start().await;
    let prices = Prices::build(&BTreeMap::new()).unwrap();
    let now = team.clock().now_ms();
    let made = book::create(
        team.store().as_ref(),
        change(json!({"name": "bob", "budget_usd": {"day": 0.01}}), now),
        now,
    )
    .await
    .unwrap();
    let grant = team.authenticate(made.secret.reveal()).await.unwrap();
    let price = prices.get("openai", "gpt-4.1");
    // 1000 in, 250 out: $0.002 + $0.002 = $0.004 each.
    let mut served = 0;
    let refused = loop {
        match team
            .admit(&grant, ("openai", "gpt-4.1"), "gpt-4.1", price, 100)
            .await
        {
            Ok(admitted) => {
                served += 1;
                let (charge, write) =
                    team.settle(answer(&grant, admitted, &prices, usage(1_000, 250)));
                if let Some(write) = write {
                    write.await;
                }
                let charge = charge.unwrap();
                assert_eq!(charge.nanos, Some(4_000_000));
            }
            Err(refused) => break refused,
        }
    };
    assert_eq!(served, 3, "the third reaches $0.012 ≥ $0.01");
    let error = grant.refusal(&refused, team.clock().now_ms());
    assert_eq!(error.status, http::StatusCode::TOO_MANY_REQUESTS);
    assert!(error.message.contains("daily budget"), "{}", error.message);
    assert!(
        error.message.contains("$0.0120 spent of $0.0100"),
        "{}",
        error.message
    );
    assert!(error.retry_after.is_some_and(|s| s <= 86_400));

    let until_midnight = Duration::from_secs(error.retry_after.unwrap());
    tokio::time::advance(until_midnight).await;
    assert!(team
        .admit(&grant, ("openai", "gpt-4.1"), "gpt-4.1", price, 100)
        .await
        .is_ok());
}

#[tokio::test(start_paused = true)]
async fn two_replicas_on_one_store_spend_one_budget() {
    let store: Arc<dyn TeamStore> = Arc::new(MemoryTeamStore::new());
    let (a, b) = (
        Team::new(store.clone(), Clock::system()),
        Team::new(store.clone(), Clock::system()),
    );
    a.start().await;
    b.start().await;
    let prices = Prices::build(&BTreeMap::new()).unwrap();
    let now = a.clock().now_ms();
    let made = book::create(
        store.as_ref(),
        change(json!({"name": "carol", "budget_usd": {"day": 0.01}}), now),
        now,
    )
    .await
    .unwrap();
    let on_a = a.authenticate(made.secret.reveal()).await.unwrap();
    let on_b = b.authenticate(made.secret.reveal()).await.unwrap();
    let price = prices.get("openai", "gpt-4.1");
    for _ in 0..3 {
        let admitted = a
            .admit(&on_a, ("openai", "gpt-4.1"), "gpt-4.1", price, 100)
            .await
            .unwrap();
        if let (_, Some(write)) = a.settle(answer(&on_a, admitted, &prices, usage(1_000, 250))) {
            write.await;
        }
    }
    // B learns A's spend within a sync or two.
    tokio::time::sleep(SYNC_EVERY * 3).await;
    let refused = b
        .admit(&on_b, ("openai", "gpt-4.1"), "gpt-4.1", price, 100)
        .await
        .unwrap_err();
    assert!(matches!(refused, Refused::Over(_)));
}

#[tokio::test(start_paused = true)]
async fn routes_and_unpriced_models_are_refused_before_anything_is_held() {
    let team = Team::new(Arc::new(MemoryTeamStore::new()), Clock::system());
    team.start().await;
    let now = team.clock().now_ms();
    let made = book::create(
        team.store().as_ref(),
        change(
            json!({"name": "dave", "routes": ["gemini@*", "openai@gpt-4.1*"], "budget_usd": {"month": 5}}),
            now,
        ),
        now,
    )
    .await
    .unwrap();
    let grant = team.authenticate(made.secret.reveal()).await.unwrap();
    let refused = team
        .admit(&grant, ("openai", "gpt-4o"), "gpt-4o", None, 10)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        Refused::Route {
            model: "gpt-4o".into()
        }
    );
    let message = grant.refusal(&refused, now).message;
    assert!(message.contains("gemini@*, openai@gpt-4.1*"), "{message}");
    let unpriced = team
        .admit(
            &grant,
            ("gemini", "gemini-9-ultra"),
            "gemini-9-ultra",
            None,
            10,
        )
        .await
        .unwrap_err();
    assert!(matches!(unpriced, Refused::Unpriced { .. }));
    assert!(grant.allows_provider("gemini"));
    assert!(!grant.allows_provider("openai"));
    assert_eq!(grant.meter.reading(now).in_flight, 0);
}

#[test]
fn secrets_no_key_has_are_looked_up_in_the_store_a_few_times_a_second_at_most() {
    let directory = directory::Directory::default();
    let second = 1_749_043_200_000;
    let allowed = (0..100).filter(|_| directory.may_ask(second)).count();
    assert_eq!(allowed, 20);
    assert!(directory.may_ask(second + 1_000), "a new second");
}

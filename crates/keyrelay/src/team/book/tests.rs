use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::store::team::MemoryTeamStore;
use crate::team::spec::Context;

const NOW: u64 = 1_749_043_200_000;

fn change(body: Value, creating: bool) -> KeyChange {
    let providers = vec!["openai".to_owned()];
    let cx = Context {
        providers: &providers,
        now_ms: NOW,
    };
    KeyChange::from_json(&body, creating, &cx).unwrap()
}

#[tokio::test]
async fn a_key_is_made_changed_found_by_name_and_deleted() {
    let store = Arc::new(MemoryTeamStore::new());
    let made = create(store.as_ref(), change(json!({"name": "alice"}), true), NOW)
        .await
        .unwrap();
    assert_eq!(
        made.key.hash,
        secret::hex(&secret::hash(made.secret.reveal()))
    );
    let stored = store.keys().await.unwrap();
    assert!(!format!("{stored:?}").contains(made.secret.reveal()));

    let clash = create(store.as_ref(), change(json!({"name": "alice"}), true), NOW).await;
    assert!(matches!(clash, Err(BookError::NameTaken(_))));

    let changed = super::change(
        store.as_ref(),
        "alice",
        change(json!({"disabled": true, "rpm": 5}), false),
        NOW + 1,
    )
    .await
    .unwrap();
    assert_eq!(changed.disabled_at_ms, Some(NOW + 1));
    assert_eq!(changed.rpm, Some(5));
    let view = view(&changed, &WindowSpend::default(), NOW + 1);
    assert_eq!(view["state"], "disabled");
    assert!(view.get("hash").is_none());
    assert_eq!(view["spend"]["day"]["resets_at"], "2025-06-05T00:00:00Z");

    delete(store.as_ref(), &made.key.id).await.unwrap();
    assert!(matches!(
        find(store.as_ref(), "alice").await,
        Err(BookError::NotFound(_))
    ));
}

#[test]
fn spend_is_unknown_only_when_every_request_was_unpriced() {
    let all_unpriced = SpendCounts {
        requests: 2,
        unpriced_requests: 2,
        ..SpendCounts::default()
    };
    assert_eq!(spend_usd(&all_unpriced), Value::Null);
    let none = SpendCounts::default();
    assert_eq!(spend_usd(&none), json!(0.0));
}

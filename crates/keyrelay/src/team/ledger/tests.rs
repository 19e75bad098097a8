use std::time::Duration;

use super::*;
use crate::store::team::MemoryTeamStore;

fn spent<'a>(
    key: Option<&'a (Arc<str>, Arc<str>)>,
    team: Option<&'a Arc<str>>,
    model: &'a str,
    nanos: u64,
) -> Spent<'a> {
    Spent {
        at_ms: 1_749_043_200_000,
        key: key.map(|(id, name)| (id, name)),
        team,
        provider: "openai",
        model: Some(model),
        provider_key: Some("3f9c0a1b2c4d"),
        counts: SpendCounts {
            requests: 1,
            input_tokens: 10,
            usd_nanos: nanos,
            ..SpendCounts::default()
        },
    }
}

#[tokio::test]
async fn one_answer_lands_in_every_dimension_it_names() {
    let store = Arc::new(MemoryTeamStore::new());
    let warn = Arc::new(WarnLimiter::new(Duration::from_secs(30)));
    let ledger = Ledger::new(store.clone(), Clock::system(), Duration::from_secs(1), warn);
    let key: (Arc<str>, Arc<str>) = (Arc::from("a1"), Arc::from("name-a1"));
    let team: Arc<str> = Arc::from("research");
    ledger.record(&spent(Some(&key), Some(&team), "gpt-4.1", 500));
    ledger.record(&spent(Some(&key), Some(&team), "gpt-4.1", 700));
    ledger.record(&spent(None, None, "gpt-4.1", 100));
    ledger.sync().await;
    let rows = store.spend("2025-06-04", "2025-06-04").await.unwrap();
    let find = |d: Dimension, name: &str| {
        rows.iter()
            .find(|r| r.dimension == d && r.name == name)
            .map(|r| (r.counts.requests, r.counts.usd_nanos))
    };
    assert_eq!(find(Dimension::Key, "a1"), Some((2, 1_200)));
    assert_eq!(find(Dimension::Team, "research"), Some((2, 1_200)));
    assert_eq!(find(Dimension::Model, "openai@gpt-4.1"), Some((3, 1_300)));
    assert_eq!(find(Dimension::Provider, "openai"), Some((3, 1_300)));
    assert_eq!(
        find(Dimension::ProviderKey, "openai/3f9c0a1b2c4d"),
        Some((3, 1_300))
    );
    assert_eq!(rows.len(), 5);
    // Written once.
    ledger.sync().await;
    let again = store.spend("2025-06-04", "2025-06-04").await.unwrap();
    assert_eq!(again, rows);
    let totals = ledger.totals();
    let key = (
        "name-a1".to_owned(),
        "research".to_owned(),
        "openai@gpt-4.1".to_owned(),
    );
    assert_eq!(totals[&key].usd_nanos, 1_200);
    assert_eq!(
        totals[&("-".into(), "-".into(), "openai@gpt-4.1".into())].requests,
        1
    );
}

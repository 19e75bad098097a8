use super::*;

#[test]
fn days_between_counts_both_ends_and_crosses_months() {
    assert_eq!(
        days_between("2025-02-27", "2025-03-02"),
        ["2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02"]
    );
    assert_eq!(days_between("2025-03-02", "2025-03-02"), ["2025-03-02"]);
    assert!(days_between("2025-03-02", "2025-03-01").is_empty());
    assert!(days_between("yesterday", "2025-03-01").is_empty());
    assert_eq!(days_between("2000-01-01", "2099-01-01").len(), MAX_DAYS);
}

#[test]
fn spend_counts_add_and_name_their_fields() {
    let mut a = SpendCounts {
        requests: 1,
        usd_nanos: 5,
        ..SpendCounts::default()
    };
    a.add(&SpendCounts {
        requests: 2,
        cache_write_tokens: 7,
        ..SpendCounts::default()
    });
    assert_eq!((a.requests, a.usd_nanos, a.cache_write_tokens), (3, 5, 7));
    assert!(a.set("estimated_requests", 4));
    assert!(!a.set("no_such_counter", 4));
    assert_eq!(a.estimated_requests, 4);
    assert_eq!(SpendCounts::from_values(a.values()), a);
}

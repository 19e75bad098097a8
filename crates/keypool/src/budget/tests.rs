use super::*;

const MIN: u64 = 60_000;

#[test]
fn rpm_waits_for_the_oldest_request_to_leave_the_minute() {
    let budget = Budget {
        rpm: Some(2),
        ..Budget::default()
    };
    let mut usage = Vec::new();
    let start = 1_000_000_003; // 3 ms into a 10-second bucket
    assert_eq!(budget.wait_ms(&usage, start, 0), 0);
    count(&mut usage, start, 1, 0);
    assert_eq!(budget.wait_ms(&usage, start, 0), 0);
    count(&mut usage, start + 20_000, 1, 0);
    // Full: the first bucket ends at start - 3 + 10 s, then a minute passes.
    let wait = budget.wait_ms(&usage, start + 30_000, 0);
    assert_eq!(wait, (start - 3 + 10_000 + MIN) - (start + 30_000));
    assert_eq!(budget.wait_ms(&usage, start + 30_000 + wait, 0), 0);
}

#[test]
fn tpm_counts_the_request_about_to_go() {
    let budget = Budget {
        tpm: Some(1_000),
        ..Budget::default()
    };
    let mut usage = Vec::new();
    count(&mut usage, 0, 1, 700);
    assert_eq!(budget.wait_ms(&usage, 1, 300), 0);
    assert!(budget.wait_ms(&usage, 1, 301) > 0);
    // Alone, even a request above the whole budget may go.
    assert_eq!(budget.wait_ms(&[], 1, 5_000), 0);
}

#[test]
fn rpd_looks_back_a_day_in_hours() {
    let budget = Budget {
        rpd: Some(1),
        ..Budget::default()
    };
    let mut usage = Vec::new();
    count(&mut usage, 0, 1, 0);
    assert!(budget.wait_ms(&usage, 23 * 3_600_000, 0) > 0);
    assert_eq!(budget.wait_ms(&usage, 25 * 3_600_000, 0), 0);
    forget_old(&mut usage, 25 * 3_600_000);
    assert!(usage.is_empty());
}

#[test]
fn store_totals_merge_by_the_larger_count() {
    let mut mine = Vec::new();
    count(&mut mine, 0, 1, 10);
    let mut theirs = Vec::new();
    count(&mut theirs, 0, 3, 5);
    merge_max(&mut mine, &theirs);
    let ten = mine.iter().find(|b| b.span == Span::TenSeconds).unwrap();
    assert_eq!((ten.requests, ten.tokens), (3, 10));
}

use super::*;

const T0: u64 = 1_768_478_400_000; // a minute's start

#[test]
fn attempts_add_up_per_minute_with_their_failures() {
    let mut history = MinuteHistory::default();
    history.count(T0 + 1_000, false);
    history.count(T0 + 59_999, true);
    history.count(T0 + 60_000, true);
    assert_eq!(
        history.last_hour(T0 + 61_000),
        vec![
            MinuteCount {
                minute_start_ms: T0,
                requests: 2,
                failures: 1
            },
            MinuteCount {
                minute_start_ms: T0 + 60_000,
                requests: 1,
                failures: 1
            },
        ]
    );
}

#[test]
fn minutes_older_than_an_hour_leave_the_view_and_the_memory() {
    let mut history = MinuteHistory::default();
    history.count(T0, false);
    let hour_later = T0 + MinuteHistory::MINUTES * MINUTE_MS;
    assert_eq!(history.last_hour(hour_later - 1).len(), 1, "59 minutes on");
    assert!(history.last_hour(hour_later).is_empty());
    history.count(hour_later, false);
    assert_eq!(history.minutes.len(), 1, "the old minute was dropped");
}

use super::*;

/// 2025-06-04T13:20:00Z, a Wednesday.
const WEDNESDAY: u64 = 1_749_043_200_000;

#[test]
fn day_week_and_month_windows_are_utc_calendar_windows() {
    let day = Window::of(Period::Day, WEDNESDAY);
    assert_eq!(day.label, "2025-06-04");
    assert_eq!(rfc3339(day.starts_ms), "2025-06-04T00:00:00Z");
    assert_eq!(rfc3339(day.ends_ms), "2025-06-05T00:00:00Z");
    let week = Window::of(Period::Week, WEDNESDAY);
    assert_eq!(week.label, "2025-W23");
    assert_eq!(rfc3339(week.starts_ms), "2025-06-02T00:00:00Z", "Monday");
    assert_eq!(rfc3339(week.ends_ms), "2025-06-09T00:00:00Z");
    let month = Window::of(Period::Month, WEDNESDAY);
    assert_eq!(month.label, "2025-06");
    assert_eq!(rfc3339(month.starts_ms), "2025-06-01T00:00:00Z");
    assert_eq!(rfc3339(month.ends_ms), "2025-07-01T00:00:00Z");
    assert!(month.contains(WEDNESDAY) && !month.contains(month.ends_ms));
}

#[test]
fn december_ends_at_the_new_year_and_iso_weeks_cross_years() {
    // 2025-12-31T23:59:59Z.
    let last = 1_767_225_599_000;
    let month = Window::of(Period::Month, last);
    assert_eq!(rfc3339(month.ends_ms), "2026-01-01T00:00:00Z");
    // Wednesday 2025-12-31 is in ISO week 1 of 2026.
    assert_eq!(Window::of(Period::Week, last).label, "2026-W01");
    assert_eq!(Window::of(Period::Day, last + 1_000).label, "2026-01-01");
    assert_eq!(day_label(last), "2025-12-31");
}

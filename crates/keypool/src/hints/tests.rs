use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;

/// 2026-01-15T12:00:00Z, a winter day.
fn winter_noon() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_768_478_400)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    map
}

#[test]
fn retry_after_reads_seconds_fractions_and_http_dates() {
    let now = winter_noon();
    assert_eq!(
        retry_after(&headers(&[("retry-after", "30")]), now),
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        retry_after(&headers(&[("retry-after", "1.5")]), now),
        Some(Duration::from_millis(1500))
    );
    let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
    assert_eq!(
        retry_after(&headers(&[("Retry-After", &date)]), now),
        Some(Duration::from_secs(90))
    );
    let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
    assert_eq!(
        retry_after(&headers(&[("retry-after", &past)]), now),
        Some(Duration::ZERO)
    );
    assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
    assert_eq!(retry_after(&headers(&[("retry-after", "-4")]), now), None);
}

#[test]
fn retry_after_ms_is_milliseconds() {
    assert_eq!(
        retry_after_ms(&headers(&[("retry-after-ms", "250")])),
        Some(Duration::from_millis(250))
    );
}

#[test]
fn anthropic_resets_are_rfc3339_and_the_latest_wins() {
    let now = winter_noon();
    let h = headers(&[
        ("anthropic-ratelimit-requests-reset", "2026-01-15T12:00:20Z"),
        ("anthropic-ratelimit-tokens-reset", "2026-01-15T12:01:00Z"),
        (
            "anthropic-ratelimit-input-tokens-reset",
            "2026-01-15T12:00:05+00:00",
        ),
        ("anthropic-ratelimit-requests-limit", "50"),
    ]);
    assert_eq!(anthropic_reset(&h, now), Some(Duration::from_secs(60)));
}

#[test]
fn openai_resets_are_go_durations() {
    let h = headers(&[
        ("x-ratelimit-reset-requests", "6m0s"),
        ("x-ratelimit-reset-tokens", "20ms"),
    ]);
    assert_eq!(openai_reset(&h), Some(Duration::from_secs(360)));
    assert_eq!(
        parse_go_duration("1h2m3.5s"),
        Some(Duration::from_millis(3_723_500))
    );
    assert_eq!(
        parse_go_duration("20.04s"),
        Some(Duration::from_millis(20_040))
    );
    assert_eq!(parse_go_duration("150ms"), Some(Duration::from_millis(150)));
    assert_eq!(parse_go_duration("37"), Some(Duration::from_secs(37)));
    for bad in ["", "s", "5x", "1.2.3s", "m5"] {
        assert_eq!(parse_go_duration(bad), None, "{bad}");
    }
}

#[test]
fn openrouter_reset_is_epoch_milliseconds() {
    let now = winter_noon();
    let at_ms = 1_768_478_400_000u64 + 42_000;
    let h = headers(&[("X-RateLimit-Reset", &at_ms.to_string())]);
    assert_eq!(epoch_ms_reset(&h, now), Some(Duration::from_secs(42)));
    let secs = headers(&[("x-ratelimit-reset", "1768478410")]);
    assert_eq!(epoch_ms_reset(&secs, now), Some(Duration::from_secs(10)));
}

#[test]
fn the_longest_hint_wins() {
    let now = winter_noon();
    let h = headers(&[
        ("retry-after", "5"),
        ("retry-after-ms", "7000"),
        ("x-ratelimit-reset-requests", "1m"),
        ("anthropic-ratelimit-tokens-reset", "2026-01-15T12:00:30Z"),
    ]);
    assert_eq!(longest(&h, now), Some(Duration::from_secs(60)));
    assert_eq!(longest(&HeaderMap::new(), now), None);
}

#[test]
fn a_success_with_nothing_left_parks_until_the_reset() {
    let now = winter_noon();
    let anthropic = headers(&[
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2026-01-15T12:00:12Z"),
    ]);
    assert_eq!(
        exhausted_until(&anthropic, now),
        Some(Duration::from_secs(12))
    );
    let openai = headers(&[
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "2s"),
    ]);
    assert_eq!(exhausted_until(&openai, now), Some(Duration::from_secs(2)));
    let left = headers(&[
        ("x-ratelimit-remaining-requests", "3"),
        ("x-ratelimit-reset-requests", "2s"),
    ]);
    assert_eq!(exhausted_until(&left, now), None);
}

#[test]
fn pacific_midnight_honours_daylight_saving_time() {
    // Winter: PST is UTC-8, so 12:00Z is 04:00 local; midnight is 20h away.
    assert_eq!(
        until_pacific_midnight(winter_noon()),
        Duration::from_secs(20 * 3600)
    );
    // Summer: 2026-07-15T12:00:00Z is 05:00 PDT (UTC-7); midnight is 19h away.
    let summer = UNIX_EPOCH + Duration::from_secs(1_784_116_800);
    assert_eq!(
        until_pacific_midnight(summer),
        Duration::from_secs(19 * 3600)
    );
    // 07:30Z in winter is still the previous day in Pacific time (23:30).
    let late = winter_noon() - Duration::from_secs(4 * 3600 + 30 * 60);
    assert_eq!(until_pacific_midnight(late), Duration::from_secs(30 * 60));
}

#[test]
fn utc_midnight_is_the_next_utc_day() {
    assert_eq!(
        until_utc_midnight(winter_noon()),
        Duration::from_secs(12 * 3600)
    );
}

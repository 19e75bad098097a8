//! Reading a provider's "come back later" hints out of response headers.
//!
//! Every function takes `now` as wall-clock time so that absolute hints (HTTP
//! dates, RFC 3339 stamps, epoch milliseconds) become durations from now.
//! Hints in the past become zero; unparsable hints are ignored.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use http::{HeaderMap, HeaderName};

/// The longest of every hint the headers carry, or `None` when there is none.
pub fn longest(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    [
        retry_after(headers, now),
        retry_after_ms(headers),
        anthropic_reset(headers, now),
        openai_reset(headers),
        epoch_ms_reset(headers, now),
    ]
    .into_iter()
    .flatten()
    .max()
}

/// `Retry-After`: delay seconds (possibly fractional) or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = header_str(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return seconds(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// `retry-after-ms`: delay in milliseconds (OpenAI and Anthropic SDK convention).
pub fn retry_after_ms(headers: &HeaderMap) -> Option<Duration> {
    let ms = header_str(headers, "retry-after-ms")?.parse::<f64>().ok()?;
    seconds(ms / 1000.0)
}

/// `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset`:
/// RFC 3339 instants. The latest one wins.
pub fn anthropic_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name.starts_with("anthropic-ratelimit-") && name.ends_with("-reset")
        })
        .filter_map(|(_, value)| value.to_str().ok())
        .filter_map(|value| until_rfc3339(value, now))
        .max()
}

/// OpenAI's `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens`:
/// Go-style durations such as `6m0s`, `1s`, `20ms`.
pub fn openai_reset(headers: &HeaderMap) -> Option<Duration> {
    ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
        .into_iter()
        .filter_map(|name| header_str(headers, name))
        .filter_map(parse_go_duration)
        .max()
}

/// `X-RateLimit-Reset` as OpenRouter sends it: milliseconds since the epoch.
/// Values that look like epoch seconds are accepted too.
pub fn epoch_ms_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let raw = header_str(headers, "x-ratelimit-reset")?
        .parse::<u64>()
        .ok()?;
    // Epoch milliseconds have 13 digits today; seconds have 10.
    let at = if raw >= 100_000_000_000 {
        UNIX_EPOCH + Duration::from_millis(raw)
    } else if raw >= 1_000_000_000 {
        UNIX_EPOCH + Duration::from_secs(raw)
    } else {
        // A small number is a delay in seconds, as some servers send it.
        return Some(Duration::from_secs(raw));
    };
    Some(at.duration_since(now).unwrap_or_default())
}

/// When a success says no requests are left in the window, the time until the
/// window resets, so the key can be parked before it earns a 429.
pub fn exhausted_until(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    // Checked on every success: names built once, not parsed per call.
    const ANTHROPIC_REMAINING: HeaderName =
        HeaderName::from_static("anthropic-ratelimit-requests-remaining");
    const OPENAI_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
    const OPENROUTER_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
    let zero = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
    };
    if zero(&ANTHROPIC_REMAINING) {
        let reset = header_str(headers, "anthropic-ratelimit-requests-reset")
            .and_then(|v| until_rfc3339(v, now));
        return Some(reset.unwrap_or(Duration::from_secs(1)));
    }
    if zero(&OPENAI_REMAINING) {
        let reset = header_str(headers, "x-ratelimit-reset-requests").and_then(parse_go_duration);
        return Some(reset.unwrap_or(Duration::from_secs(1)));
    }
    if zero(&OPENROUTER_REMAINING) {
        return Some(epoch_ms_reset(headers, now).unwrap_or(Duration::from_secs(1)));
    }
    None
}

/// Parses Go/protobuf style durations: `37s`, `20.04s`, `6m0s`, `1h2m3.5s`,
/// `150ms`, `1.5us`. A bare number is seconds.
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    seconds(total)
}

/// Time from `now` to the next midnight in US Pacific time (Gemini's daily
/// quota reset), honouring daylight saving time.
pub fn until_pacific_midnight(now: SystemTime) -> Duration {
    let now_utc: DateTime<Utc> = now.into();
    let offset_hours = if pacific_dst(now_utc) { 7 } else { 8 };
    let local = now_utc - chrono::Duration::hours(offset_hours);
    let next_day = local.date_naive().succ_opt().unwrap_or(local.date_naive());
    let midnight_local = next_day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // The offset at that midnight may differ from now's (DST switches at 2am,
    // so midnight uses the offset of the day it begins).
    let midnight_offset =
        if pacific_dst(Utc.from_utc_datetime(&(midnight_local + chrono::Duration::hours(8)))) {
            7
        } else {
            8
        };
    let midnight_utc =
        Utc.from_utc_datetime(&(midnight_local + chrono::Duration::hours(midnight_offset)));
    (midnight_utc - now_utc).to_std().unwrap_or_default()
}

/// Time from `now` to the next midnight UTC (OpenRouter's free-model day).
pub fn until_utc_midnight(now: SystemTime) -> Duration {
    let now_utc: DateTime<Utc> = now.into();
    let next_day = now_utc
        .date_naive()
        .succ_opt()
        .unwrap_or(now_utc.date_naive());
    let midnight = Utc.from_utc_datetime(&next_day.and_hms_opt(0, 0, 0).unwrap_or_default());
    (midnight - now_utc).to_std().unwrap_or_default()
}

/// US daylight saving time: from the second Sunday of March, 2:00 local
/// standard time (10:00 UTC), to the first Sunday of November, 2:00 local
/// daylight time (09:00 UTC).
fn pacific_dst(at: DateTime<Utc>) -> bool {
    let year = at.year();
    let start = nth_sunday(year, 3, 2).and_hms_opt(10, 0, 0);
    let end = nth_sunday(year, 11, 1).and_hms_opt(9, 0, 0);
    match (start, end) {
        (Some(start), Some(end)) => {
            let naive = at.naive_utc();
            naive >= start && naive < end
        }
        _ => false,
    }
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let to_sunday = (7 - first.weekday().num_days_from_sunday()) % 7;
    first + chrono::Duration::days(i64::from(to_sunday + 7 * (n - 1)))
}

fn until_rfc3339(value: &str, now: SystemTime) -> Option<Duration> {
    let at = DateTime::parse_from_rfc3339(value.trim()).ok()?;
    let at: SystemTime = at.with_timezone(&Utc).into();
    Some(at.duration_since(now).unwrap_or_default())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

#[cfg(test)]
mod tests;

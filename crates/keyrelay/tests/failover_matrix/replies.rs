//! A failure as the upstream sends it: the real fixture body and its
//! `.headers` sidecar. Absolute reset stamps in them were chosen for the
//! fixtures' fixed `now` (2026-01-15T12:00:00Z); they are moved to the
//! gateway's own `now`, so that a stamp a minute ahead still means a minute.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use testkit::{fixture_bytes, fixture_path, Reply, SseEvent};

use crate::providers::{fixture_file, Framing, Sent};

/// The fixtures' `now` in Unix milliseconds.
const FIXTURES_NOW_MS: i64 = 1_768_478_400_000;

/// Stamps further than this from the fixtures' `now` are left alone.
const STAMP_WINDOW_MS: i64 = 2 * 24 * 3600 * 1000;

/// The upstream's reply for `sent`, its stamps moved to `now`.
pub fn failing(sent: Sent, now: SystemTime) -> Reply {
    let shift = unix_ms(now) - FIXTURES_NOW_MS;
    match sent {
        Sent::Reset => Reply::reset(),
        Sent::Hang => Reply::hang(),
        Sent::Silence { ndjson } => {
            let content_type = if ndjson {
                "application/x-ndjson"
            } else {
                "text/event-stream"
            };
            Reply::chunks(200, content_type, Vec::<Vec<u8>>::new()).stall_after(0)
        }
        Sent::Fixture { status, name } => {
            let body = moved_epoch_ms(&fixture_text(name), shift);
            let mut reply = Reply::raw(status, "application/json", body);
            for (header, value) in sidecar(name) {
                reply = reply.header(&header, &moved_stamp(&value, shift));
            }
            reply
        }
        Sent::Event { name, framing } => {
            let data = moved_epoch_ms(fixture_text(name).trim(), shift);
            match framing {
                Framing::SseNamed(name) => Reply::sse([SseEvent::named(name, data)]),
                Framing::SseData => Reply::sse([SseEvent::data(data)]),
                Framing::Ndjson => Reply::chunks(200, "application/x-ndjson", [data + "\n"]),
            }
        }
    }
}

/// An error fixture as text (every one is JSON).
pub fn fixture_text(name: &str) -> String {
    let bytes = fixture_bytes(&fixture_file(name));
    String::from_utf8(bytes.to_vec()).expect("a UTF-8 fixture")
}

/// The `name: value` lines of an error fixture's `.headers` sidecar, if any.
pub fn sidecar(name: &str) -> Vec<(String, String)> {
    let path = fixture_path(&fixture_file(name)).with_extension("headers");
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

/// A header value, moved if it is an RFC 3339 stamp or epoch milliseconds.
fn moved_stamp(value: &str, shift: i64) -> String {
    if let Some(ms) = parse_rfc3339(value) {
        if (ms - FIXTURES_NOW_MS).abs() < STAMP_WINDOW_MS {
            return rfc3339(ms + shift);
        }
    }
    moved_epoch_ms(value, shift)
}

/// Every 13-digit number near the fixtures' `now` moved by `shift`.
fn moved_epoch_ms(text: &str, shift: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let digits = &rest[start..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let number = &digits[..end];
        match number.parse::<i64>() {
            Ok(ms) if number.len() == 13 && (ms - FIXTURES_NOW_MS).abs() < STAMP_WINDOW_MS => {
                out.push_str(&(ms + shift).to_string());
            }
            _ => out.push_str(number),
        }
        rest = &digits[end..];
    }
    out.push_str(rest);
    out
}

fn unix_ms(at: SystemTime) -> i64 {
    let ms = at.duration_since(UNIX_EPOCH).unwrap().as_millis();
    i64::try_from(ms).unwrap()
}

/// `YYYY-MM-DDTHH:MM:SSZ` as Unix milliseconds.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let numbers = |s: &str, sep: char| -> Option<Vec<i64>> {
        s.split(sep).map(|part| part.parse().ok()).collect()
    };
    let (date, time) = (numbers(date, '-')?, numbers(time, ':')?);
    let (&[year, month, day], &[hour, minute, second]) = (&date[..], &time[..]) else {
        return None;
    };
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (the second it falls in).
fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap());
    // "Sun, 06 Nov 1994 08:49:37 GMT" → "1994-11-06T08:49:37Z"
    let date = httpdate::fmt_http_date(at);
    let parts: Vec<&str> = date.split_whitespace().collect();
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == parts[2]).unwrap() + 1;
    format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4])
}

#[test]
fn stamps_move_by_the_shift_and_nothing_else_does() {
    assert_eq!(parse_rfc3339("2026-01-15T12:00:00Z"), Some(FIXTURES_NOW_MS));
    assert_eq!(rfc3339(FIXTURES_NOW_MS + 61_500), "2026-01-15T12:01:01Z");
    let hour = 3_600_000;
    assert_eq!(
        moved_stamp("2026-01-15T12:01:00Z", hour),
        "2026-01-15T13:01:00Z"
    );
    assert_eq!(moved_stamp("1768478460000", hour), "1768482060000");
    assert_eq!(moved_stamp("6m0s", hour), "6m0s");
    assert_eq!(
        moved_epoch_ms(
            r#"{"Reset":"1768478460000","Limit":"8","id":1234567890123}"#,
            1
        ),
        r#"{"Reset":"1768478460001","Limit":"8","id":1234567890123}"#
    );
}

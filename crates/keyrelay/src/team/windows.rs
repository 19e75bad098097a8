//! The windows budgets are counted in, all in UTC: the calendar day, the
//! ISO week (from Monday 00:00) and the calendar month. A window is named
//! by a label (`2025-06-02`, `2025-W23`, `2025-06`) and ends at a known
//! instant, which is when its budget resets.

use chrono::{DateTime, Datelike, NaiveDate};

const DAY_MS: u64 = 86_400_000;

/// A budget period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// `day`, `week`, `month`: the field names of `budget_usd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// `daily`, `weekly`, `monthly`, for messages.
    pub fn adjective(self) -> &'static str {
        match self {
            Period::Day => "daily",
            Period::Week => "weekly",
            Period::Month => "monthly",
        }
    }
}

/// One window of a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub period: Period,
    pub label: String,
    /// Unix ms it began.
    pub starts_ms: u64,
    /// Unix ms it ends and the next begins.
    pub ends_ms: u64,
}

impl Window {
    /// The window of `period` that holds the instant `now_ms`.
    pub fn of(period: Period, now_ms: u64) -> Window {
        let day = now_ms / DAY_MS;
        let date = date_of_day(day);
        let (label, start_day, end_day) = match period {
            Period::Day => (date.format("%Y-%m-%d").to_string(), day, day + 1),
            Period::Week => {
                let monday = day - u64::from(date.weekday().num_days_from_monday());
                let week = date.iso_week();
                (
                    format!("{}-W{:02}", week.year(), week.week()),
                    monday,
                    monday + 7,
                )
            }
            Period::Month => {
                let first = day - u64::from(date.day0());
                let next = if date.month() == 12 {
                    NaiveDate::from_ymd_opt(date.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(date.year(), date.month() + 1, 1)
                };
                let end = next.map_or(first + 31, day_of_date);
                (date.format("%Y-%m").to_string(), first, end)
            }
        };
        Window {
            period,
            label,
            starts_ms: start_day * DAY_MS,
            ends_ms: end_day * DAY_MS,
        }
    }

    pub fn contains(&self, now_ms: u64) -> bool {
        (self.starts_ms..self.ends_ms).contains(&now_ms)
    }
}

/// The UTC date of a day counted from 1970-01-01.
pub fn date_of_day(day: u64) -> NaiveDate {
    let secs = i64::try_from(day.saturating_mul(86_400)).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

fn day_of_date(date: NaiveDate) -> u64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    u64::try_from((date - epoch).num_days()).unwrap_or(0)
}

/// The UTC day (`YYYY-MM-DD`) of the instant `ms`.
pub fn day_label(ms: u64) -> String {
    date_of_day(ms / DAY_MS).format("%Y-%m-%d").to_string()
}

/// The instant `ms` as RFC 3339 in UTC, to the second (`2025-06-03T00:00:00Z`).
pub fn rfc3339(ms: u64) -> String {
    let secs = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;

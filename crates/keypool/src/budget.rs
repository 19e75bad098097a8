//! Client-side budgets: requests per minute, tokens per minute and requests
//! per day that a key may spend, counted here so the pool moves on before
//! the provider answers 429.
//!
//! Usage is counted in buckets: 10-second buckets for the minute window,
//! hourly ones for the day. A bucket counts for as long as any of it lies in
//! the window, so the count errs on the safe side by at most one bucket
//! width. Buckets are plain counters, so processes sharing a state store add
//! theirs together.

use serde::{Deserialize, Serialize};

/// A key's limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input and output) per minute.
    pub tpm: Option<u64>,
    /// Requests per day (a sliding 24 hours).
    pub rpd: Option<u64>,
}

impl Budget {
    pub fn is_unlimited(&self) -> bool {
        self.rpm.is_none() && self.tpm.is_none() && self.rpd.is_none()
    }

    /// Each limit of `self`, else `fallback`'s (a key's own over its provider's).
    pub fn or(self, fallback: Budget) -> Budget {
        Budget {
            rpm: self.rpm.or(fallback.rpm),
            tpm: self.tpm.or(fallback.tpm),
            rpd: self.rpd.or(fallback.rpd),
        }
    }

    /// Milliseconds from `now_ms` until `usage` leaves room for one more
    /// request of about `tokens` tokens: 0 when there is room now. A request
    /// larger than the whole token budget still goes when nothing else is
    /// counted, rather than never.
    pub fn wait_ms(&self, usage: &[UsageBucket], now_ms: u64, tokens: u64) -> u64 {
        let limits = [
            (self.rpm, Span::TenSeconds, 1, Count::Requests),
            (self.tpm, Span::TenSeconds, tokens, Count::Tokens),
            (self.rpd, Span::Hour, 1, Count::Requests),
        ];
        limits
            .into_iter()
            .filter_map(|(limit, span, cost, count)| {
                Some(wait_for(limit?, usage, span, count, cost, now_ms))
            })
            .max()
            .unwrap_or(0)
    }
}

#[derive(Clone, Copy)]
enum Count {
    Requests,
    Tokens,
}

/// How long until the buckets of `span` in its window, oldest leaving
/// first, leave room for `cost` more under `limit`.
fn wait_for(
    limit: u64,
    usage: &[UsageBucket],
    span: Span,
    count: Count,
    cost: u64,
    now_ms: u64,
) -> u64 {
    let counted = |b: &UsageBucket| match count {
        Count::Requests => b.requests,
        Count::Tokens => b.tokens,
    };
    let mut live: Vec<&UsageBucket> = usage
        .iter()
        .filter(|b| b.span == span && b.counts_at(now_ms))
        .collect();
    let mut used: u64 = live.iter().map(|b| counted(b)).sum();
    if used == 0 || used.saturating_add(cost) <= limit {
        return 0;
    }
    live.sort_by_key(|b| b.index);
    for bucket in live {
        used -= counted(bucket);
        if used == 0 || used.saturating_add(cost) <= limit {
            return bucket.leaves_window_at().saturating_sub(now_ms);
        }
    }
    0
}

/// The width of a usage bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    /// For the per-minute budgets.
    TenSeconds,
    /// For the per-day budget.
    Hour,
}

impl Span {
    pub const ALL: [Span; 2] = [Span::TenSeconds, Span::Hour];

    pub fn width_ms(self) -> u64 {
        match self {
            Span::TenSeconds => 10_000,
            Span::Hour => 3_600_000,
        }
    }

    /// The window the budgets of this span look back over.
    pub fn window_ms(self) -> u64 {
        match self {
            Span::TenSeconds => 60_000,
            Span::Hour => 86_400_000,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Span::TenSeconds => "10s",
            Span::Hour => "1h",
        }
    }

    pub fn parse(text: &str) -> Option<Span> {
        Span::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Requests and tokens counted in one bucket of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageBucket {
    pub span: Span,
    /// Unix ms / the span's width.
    pub index: u64,
    pub requests: u64,
    pub tokens: u64,
}

impl UsageBucket {
    /// Whether any of the bucket lies in the window ending at `now_ms`.
    pub fn counts_at(&self, now_ms: u64) -> bool {
        self.leaves_window_at() > now_ms
    }

    /// When the bucket's end falls out of its window.
    pub fn leaves_window_at(&self) -> u64 {
        (self.index + 1)
            .saturating_mul(self.span.width_ms())
            .saturating_add(self.span.window_ms())
    }
}

/// Adds `requests` and `tokens` at `at_ms` to `usage`, in a bucket of every span.
pub fn count(usage: &mut Vec<UsageBucket>, at_ms: u64, requests: u64, tokens: u64) {
    for span in Span::ALL {
        add(
            usage,
            UsageBucket {
                span,
                index: at_ms / span.width_ms(),
                requests,
                tokens,
            },
        );
    }
}

/// Adds `requests` and `tokens` at `at_ms` in a bucket of `span` only.
pub fn count_in(usage: &mut Vec<UsageBucket>, span: Span, at_ms: u64, requests: u64, tokens: u64) {
    add(
        usage,
        UsageBucket {
            span,
            index: at_ms / span.width_ms(),
            requests,
            tokens,
        },
    );
}

/// Adds one bucket's counts (buckets are counters: they add).
pub fn add(usage: &mut Vec<UsageBucket>, bucket: UsageBucket) {
    match usage
        .iter_mut()
        .find(|b| b.span == bucket.span && b.index == bucket.index)
    {
        Some(mine) => {
            mine.requests = mine.requests.saturating_add(bucket.requests);
            mine.tokens = mine.tokens.saturating_add(bucket.tokens);
        }
        None => usage.push(bucket),
    }
}

/// Folds in another view of the same buckets (a store's total, which may or
/// may not include ours yet): the larger count of each bucket wins.
pub fn merge_max(usage: &mut Vec<UsageBucket>, other: &[UsageBucket]) {
    for bucket in other {
        match usage
            .iter_mut()
            .find(|b| b.span == bucket.span && b.index == bucket.index)
        {
            Some(mine) => {
                mine.requests = mine.requests.max(bucket.requests);
                mine.tokens = mine.tokens.max(bucket.tokens);
            }
            None => usage.push(*bucket),
        }
    }
}

/// Takes back `tokens` counted as an estimate, newest buckets first (the
/// answer used fewer than expected).
pub fn uncount_tokens(usage: &mut [UsageBucket], tokens: u64) {
    for span in Span::ALL {
        let mut left = tokens;
        let mut buckets: Vec<&mut UsageBucket> =
            usage.iter_mut().filter(|b| b.span == span).collect();
        buckets.sort_by_key(|b| std::cmp::Reverse(b.index));
        for bucket in buckets {
            let taken = left.min(bucket.tokens);
            bucket.tokens -= taken;
            left -= taken;
            if left == 0 {
                break;
            }
        }
    }
}

/// Drops buckets that no longer count at `now_ms`.
pub fn forget_old(usage: &mut Vec<UsageBucket>, now_ms: u64) {
    usage.retain(|b| b.counts_at(now_ms));
}

#[cfg(test)]
mod tests;

//! Every attempt a request made, on every target of its fallback chain, as
//! the client sees it: a JSON array inside keyrelay's exhaustion error, and
//! the compact `x-keyrelay-attempt-log` header on every proxied response.
//!
//! Header format: entries separated by `, `, each
//! `PROVIDER:KEY=CLASS/STATUS[/RETRYs]` — `KEY` the key's fingerprint,
//! `STATUS` the HTTP status or `-` when no response came, `RETRY` the
//! provider's reset hint in whole seconds (rounded up). In `PROVIDER` and
//! `KEY`, `…` is written `...` and any byte outside `A-Z a-z 0-9 . _ ~ # -`
//! is percent-encoded, so `,` `:` `=` `/` and spaces only ever separate.
//! At most [`HEADER_ENTRIES`] entries; a final `+N` says N more were made.
//! Example: `gemini:...0001#3f9c=rate_limited/429/30s, openai:...0003#77de=success/200`.

use http::HeaderValue;
use keypool::AttemptRecord;
use serde_json::{json, Value};

/// The most entries the header lists.
pub const HEADER_ENTRIES: usize = 64;

/// One attempt and the provider it went to.
#[derive(Debug, Clone)]
pub struct LoggedAttempt {
    pub provider: String,
    pub record: AttemptRecord,
}

#[derive(Debug, Clone, Default)]
pub struct AttemptLog(Vec<LoggedAttempt>);

impl AttemptLog {
    /// Appends one target's attempts.
    pub fn extend(&mut self, provider: &str, records: &[AttemptRecord]) {
        self.0.extend(records.iter().map(|record| LoggedAttempt {
            provider: provider.to_owned(),
            record: record.clone(),
        }));
    }

    /// Every attempt with its provider's name.
    pub fn records(&self) -> Vec<(String, AttemptRecord)> {
        self.0
            .iter()
            .map(|entry| (entry.provider.clone(), entry.record.clone()))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `attempts` array of an exhaustion error.
    pub fn json(&self) -> Value {
        let entries = self.0.iter().map(|entry| {
            let record = &entry.record;
            json!({
                "provider": entry.provider,
                "key": record.key.as_str(),
                "class": record.class.as_str(),
                "status": record.status,
                "retry_after_s": record.retry_after.map(|d| seconds(d.as_millis())),
                "reason": record.reason,
            })
        });
        Value::Array(entries.collect())
    }

    /// The compact form (see the module docs).
    pub fn compact(&self) -> String {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let mut out = String::with_capacity(self.0.len().min(HEADER_ENTRIES + 1) * 48);
        for (i, entry) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if i == HEADER_ENTRIES {
                let _ = write!(out, "+{}", self.0.len() - HEADER_ENTRIES);
                break;
            }
            let record = &entry.record;
            push_escaped(&mut out, &entry.provider);
            out.push(':');
            push_escaped(&mut out, record.key.as_str());
            out.push('=');
            out.push_str(record.class.as_str());
            match record.status {
                Some(status) => {
                    let _ = write!(out, "/{status}");
                }
                None => out.push_str("/-"),
            }
            if let Some(retry) = record.retry_after {
                let _ = write!(out, "/{}s", seconds(retry.as_millis()));
            }
        }
        out
    }

    /// The `x-keyrelay-attempt-log` header value.
    pub fn header(&self) -> HeaderValue {
        // Everything `compact` writes is visible ASCII.
        HeaderValue::try_from(self.compact()).unwrap_or_else(|_| HeaderValue::from_static("-"))
    }
}

/// Whole seconds, rounded up; a hint under a second is one.
fn seconds(millis: u128) -> u64 {
    u64::try_from(millis.div_ceil(1000).max(1)).unwrap_or(u64::MAX)
}

/// Appends `text` with `…` as `...` and every byte outside the safe set
/// percent-encoded.
fn push_escaped(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, c) in text.char_indices() {
        if c == '…' {
            out.push_str("...");
            continue;
        }
        for &byte in &text.as_bytes()[i..i + c.len_utf8()] {
            if byte.is_ascii_alphanumeric() || b"._~#-".contains(&byte) {
                out.push(char::from(byte));
            } else {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0xF)]));
            }
        }
    }
}

#[cfg(test)]
mod tests;

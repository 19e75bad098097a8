//! Removing key material an upstream echoed back in an error body.
//!
//! Upstreams echo keys, whole or masked: OpenAI "Incorrect API key provided:
//! sk-PMafP*****…E873", xAI "xa***Qs", DeepSeek "Your api key: ****6eA3 is
//! invalid", Google "Consumer 'api_key:AIza…' has been suspended". Those
//! bodies go back to clients and may be logged, so every echo of **any** key
//! of the provider goes (a pool's keys often share an account, and a body may
//! name another key than the one sent):
//!
//! - the key itself, anywhere;
//! - a token that starts with the key's first 8 characters;
//! - a token that ends with the key's last 4 characters and looks like a
//!   key, not a word: it is masked, or starts with the key's first 3
//!   characters (`sk-…wxyz`), or is long and mixes letters and digits;
//! - any masked token: a run of three or more `*` or `•`, or an ellipsis
//!   (`…`, `...`) between two parts of it.
//!
//! Each becomes `[redacted]`. Only error bodies are scrubbed (at most 64 KiB,
//! rare), so the needles are built per body rather than kept per pool.

use bytes::Bytes;

#[cfg(test)]
mod tests;

/// What replaces each removed token.
const REDACTED: &[u8] = b"[redacted]";

/// How many leading key characters identify an echo of the key.
const PREFIX_CHARS: usize = 8;
/// How many trailing key characters identify a masked echo of the key.
const SUFFIX_CHARS: usize = 4;
/// How many leading characters name a key's kind (`sk-`, `AIz`).
const KIND_CHARS: usize = 3;
/// A token this long mixing letters and digits reads as a key, not a word.
const KEY_LIKE_LEN: usize = 16;

/// Scrubs `body` of one key's echoes (see the module docs).
pub fn redact(body: &[u8], key: &str) -> Bytes {
    redact_keys(body, [key])
}

/// Scrubs `body` of every echo of any of `keys`, and of masked tokens.
/// Works on any bytes: a body that is not UTF-8 is scrubbed the same way.
pub fn redact_keys<'a>(body: &[u8], keys: impl IntoIterator<Item = &'a str>) -> Bytes {
    let needles: Vec<Needle<'a>> = keys.into_iter().filter_map(Needle::of).collect();
    let mut text = body.to_vec();
    for needle in &needles {
        text = replace_exact(&text, needle.whole);
    }
    Bytes::from(redact_tokens(&text, &needles))
}

/// The parts of one key that identify its echoes.
struct Needle<'a> {
    whole: &'a [u8],
    /// The first [`PREFIX_CHARS`] characters, for keys longer than that.
    head: Option<&'a [u8]>,
    /// The last [`SUFFIX_CHARS`] characters and the first [`KIND_CHARS`],
    /// for keys long enough that those do not name half the key.
    tail: Option<(&'a [u8], &'a [u8])>,
}

impl<'a> Needle<'a> {
    fn of(key: &'a str) -> Option<Needle<'a>> {
        let key = key.trim();
        if key.is_empty() {
            return None;
        }
        let chars = key.chars().count();
        let head = key
            .char_indices()
            .nth(PREFIX_CHARS)
            .map(|(end, _)| &key.as_bytes()[..end]);
        let tail = (chars >= 3 * SUFFIX_CHARS).then(|| {
            let start = key
                .char_indices()
                .nth(chars - SUFFIX_CHARS)
                .map_or(0, |(i, _)| i);
            let kind_end = key.char_indices().nth(KIND_CHARS).map_or(0, |(i, _)| i);
            (&key.as_bytes()[start..], &key.as_bytes()[..kind_end])
        });
        Some(Needle {
            whole: key.as_bytes(),
            head,
            tail,
        })
    }

    fn echoed_in(&self, token: &[u8]) -> bool {
        if self.head.is_some_and(|head| token.starts_with(head)) {
            return true;
        }
        let Some((last, kind)) = self.tail else {
            return false;
        };
        token.len() > last.len()
            && token.ends_with(last)
            && (masked(token) || token.starts_with(kind) || key_like(token))
    }
}

/// Byte-level replacement of every occurrence of `key` (non-overlapping,
/// left to right).
fn replace_exact(body: &[u8], key: &[u8]) -> Vec<u8> {
    if key.is_empty() || body.len() < key.len() {
        return body.to_vec();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut copied = 0;
    for at in memchr::memmem::find_iter(body, key) {
        out.extend_from_slice(&body[copied..at]);
        out.extend_from_slice(REDACTED);
        copied = at + key.len();
    }
    out.extend_from_slice(&body[copied..]);
    out
}

/// Replaces echoed and masked tokens. A token is a run of bytes that can
/// appear in a key (no whitespace, quotes, JSON punctuation, or the `:`/`=`/
/// `/` that glue a key to a label or URL); a trailing `.` ends a sentence,
/// not the key, so it stays outside the token.
fn redact_tokens(text: &[u8], needles: &[Needle<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.iter().position(|&b| !is_separator(b)) {
        out.extend_from_slice(&rest[..start]);
        rest = &rest[start..];
        let len = rest
            .iter()
            .position(|&b| is_separator(b))
            .unwrap_or(rest.len());
        let token = trim_sentence_end(&rest[..len]);
        let echoed = masked(token) || needles.iter().any(|n| n.echoed_in(token));
        out.extend_from_slice(if echoed { REDACTED } else { token });
        out.extend_from_slice(&rest[token.len()..len]);
        rest = &rest[len..];
    }
    out.extend_from_slice(rest);
    out
}

/// The token without the full stop that ends a sentence after it (an
/// ellipsis inside a masked key stays).
fn trim_sentence_end(token: &[u8]) -> &[u8] {
    match token {
        [.., b'.', b'.', b'.'] => token,
        [head @ .., b'.'] => head,
        _ => token,
    }
}

/// A token with the marks of a masked key: a run of `*` or `•`, or an
/// ellipsis between two parts of it (`sk-ab...wxyz`; a sentence's closing
/// "again..." is not one).
fn masked(token: &[u8]) -> bool {
    if contains(token, b"***") || contains(token, "•••".as_bytes()) {
        return true;
    }
    ["…".as_bytes(), b"..."].iter().any(|ellipsis| {
        token
            .windows(ellipsis.len())
            .position(|w| w == *ellipsis)
            .is_some_and(|at| {
                let after = &token[at + ellipsis.len()..];
                token[..at].iter().any(u8::is_ascii_alphanumeric)
                    && after.iter().any(u8::is_ascii_alphanumeric)
            })
    })
}

/// Long, and mixing letters and digits: how keys look and words do not.
fn key_like(token: &[u8]) -> bool {
    token.len() >= KEY_LIKE_LEN
        && token.iter().any(u8::is_ascii_digit)
        && token.iter().any(u8::is_ascii_alphabetic)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Bytes that never occur inside an API key and so end a token.
fn is_separator(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'"' | b'\''
                | b'`'
                | b'\\'
                | b','
                | b';'
                | b':'
                | b'='
                | b'/'
                | b'?'
                | b'&'
                | b'{'
                | b'}'
                | b'['
                | b']'
                | b'('
                | b')'
                | b'<'
                | b'>'
        )
}

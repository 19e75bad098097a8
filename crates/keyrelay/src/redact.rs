//! Removing key material an upstream echoed back in an error body.
//!
//! OpenAI answers a bad key with "Incorrect API key provided: sk-proj-abc…wxyz",
//! Google with "Consumer 'api_key:AIza…' has been suspended". Those bodies are
//! returned to clients and may be logged, so before that every echo goes:
//! the exact key, any token that starts with the key's first 8 characters, and
//! any token with a run of three or more `*` (a masked key).

use bytes::Bytes;

/// What replaces each removed token.
const REDACTED: &str = "[redacted]";

/// How many leading key characters identify an echo of the key.
const PREFIX_CHARS: usize = 8;

/// Remove key material an upstream echoed in an error body: the exact key, any
/// token starting with the key's first 8 chars, and masked echoes (a token
/// containing a run of 3+ `*` like OpenAI's `"sk-proj-abc********wxyz"`).
/// Replaced with `"[redacted]"`. Works on non-UTF-8 bytes too (pass them
/// through untouched when not UTF-8 except exact-key replacement).
pub fn redact(body: &[u8], key: &str) -> Bytes {
    let without_key = replace_exact(body, key.as_bytes());
    match std::str::from_utf8(&without_key) {
        Ok(text) => Bytes::from(redact_tokens(text, key)),
        Err(_) => Bytes::from(without_key),
    }
}

/// Byte-level replacement of every occurrence of `key`.
fn replace_exact(body: &[u8], key: &[u8]) -> Vec<u8> {
    if key.is_empty() {
        return body.to_vec();
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(key) {
            out.extend_from_slice(REDACTED.as_bytes());
            i += key.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// Replaces key-like tokens. A token is a run of characters that can appear in
/// a key (no whitespace, quotes, JSON punctuation, or the `:`/`=`/`/` that glue
/// a key to a label or URL); a trailing `.` ends a sentence, not the key, so it
/// stays outside the token.
fn redact_tokens(text: &str, key: &str) -> String {
    // A very short key would make its "prefix" match ordinary words.
    let prefix = key
        .char_indices()
        .nth(PREFIX_CHARS)
        .map(|(end, _)| &key[..end])
        .filter(|_| !key.trim().is_empty());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| !is_separator(c)) {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let len = rest.find(is_separator).unwrap_or(rest.len());
        let token = rest[..len].trim_end_matches('.');
        let echoed = token.contains("***") || prefix.is_some_and(|p| token.starts_with(p));
        out.push_str(if echoed { REDACTED } else { token });
        out.push_str(&rest[token.len()..len]);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// Characters that never occur inside an API key and so end a token.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '"' | '\''
                | '`'
                | '\\'
                | ','
                | ';'
                | ':'
                | '='
                | '/'
                | '?'
                | '&'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
        )
}

#[cfg(test)]
mod tests {
    use super::redact;

    const KEY: &str = "sk-proj-FAKEkeyFAKEkeyFAKEkey0000";

    fn text(body: &[u8], key: &str) -> String {
        String::from_utf8(redact(body, key).to_vec()).unwrap_or_default()
    }

    #[test]
    fn exact_key_is_removed() {
        let body = format!(r#"{{"error":"bad key {KEY} given"}}"#);
        assert_eq!(
            text(body.as_bytes(), KEY),
            r#"{"error":"bad key [redacted] given"}"#
        );
    }

    #[test]
    fn masked_echo_is_removed_and_sentence_dot_kept() {
        let body = br#"{"message":"Incorrect API key provided: sk-proj-abc********wxyz. You can find your API key at https://platform.openai.com/account/api-keys."}"#;
        let out = text(body, "sk-other-key-0000000000");
        assert!(out.contains("provided: [redacted]. You can find"), "{out}");
        assert!(
            out.contains("https://platform.openai.com/account/api-keys."),
            "{out}"
        );
    }

    #[test]
    fn token_with_key_prefix_is_removed() {
        let body = b"Consumer 'api_key:AIzaFakeTRUNCATED' suspended; key AIzaFakeOther too";
        let out = text(body, "AIzaFakeFakeKey000");
        assert_eq!(
            out,
            "Consumer 'api_key:[redacted]' suspended; key [redacted] too"
        );
    }

    #[test]
    fn exact_key_after_a_label_is_removed() {
        let key = "AIzaFakeFakeKey000";
        let body = format!("Consumer 'api_key:{key}' has been suspended.");
        assert_eq!(
            text(body.as_bytes(), key),
            "Consumer 'api_key:[redacted]' has been suspended."
        );
    }

    #[test]
    fn clean_text_is_unchanged() {
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(text(body, KEY).as_bytes(), body);
    }

    #[test]
    fn non_utf8_only_loses_the_exact_key() {
        let mut body = vec![0xff, 0xfe, b' '];
        body.extend_from_slice(KEY.as_bytes());
        body.extend_from_slice(b" sk-proj-abc****wxyz \xff");
        let out = redact(&body, KEY);
        let mut expected = vec![0xff, 0xfe, b' '];
        expected.extend_from_slice(b"[redacted] sk-proj-abc****wxyz \xff");
        assert_eq!(out.as_ref(), expected.as_slice());
    }

    #[test]
    fn empty_and_short_keys_do_not_eat_text() {
        let body = b"abc abcdef ab";
        assert_eq!(text(body, ""), "abc abcdef ab");
        assert_eq!(text(body, "ab"), "[redacted]c [redacted]cdef [redacted]");
        assert_eq!(text(b"", KEY), "");
    }
}

//! The client's JSON body with only its top-level `model` value replaced,
//! every other byte as sent: a native provider gets the request byte for
//! byte, bar the model name routing changed.

use bytes::{Bytes, BytesMut};

use crate::error::ApiError;

/// The client's `body` for a provider asked for `routed` where the client
/// named `client`: the same bytes when routing kept the name, else only the
/// `model` value replaced (the document re-encoded when that value cannot
/// be found byte-wise).
pub fn routed_body(body: &Bytes, client: &str, routed: &str) -> Result<Bytes, ApiError> {
    if client == routed {
        return Ok(body.clone());
    }
    match with_model(body, routed) {
        Some(body) => Ok(body),
        None => reencoded(body, routed),
    }
}

/// The document re-encoded with `model`.
fn reencoded(body: &[u8], model: &str) -> Result<Bytes, ApiError> {
    let mut request: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(e.to_string()))?;
    request.insert("model".into(), serde_json::Value::String(model.to_owned()));
    serde_json::to_vec(&request)
        .map(Bytes::from)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// `body` with the top-level `"model"` value replaced by `model` as a JSON
/// string; `None` when `body` is not an object with such a field (the
/// caller then re-encodes the document).
pub fn with_model(body: &[u8], model: &str) -> Option<Bytes> {
    let (start, end) = top_level_value(body, "model")?;
    let encoded = serde_json::to_string(model).ok()?;
    let mut out = BytesMut::with_capacity(body.len() + encoded.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(encoded.as_bytes());
    out.extend_from_slice(&body[end..]);
    Some(out.freeze())
}

/// The byte range of the value of `key` in the top-level object.
fn top_level_value(body: &[u8], key: &str) -> Option<(usize, usize)> {
    let mut at = skip_space(body, 0);
    if body.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(body, at + 1);
    loop {
        if body.get(at) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(body, at)?;
        let name: String = serde_json::from_slice(&body[at..key_end]).ok()?;
        at = skip_space(body, key_end);
        if body.get(at) != Some(&b':') {
            return None;
        }
        let start = skip_space(body, at + 1);
        let end = value_end(body, start)?;
        if name == key {
            return Some((start, end));
        }
        at = skip_space(body, end);
        match body.get(at) {
            Some(b',') => at = skip_space(body, at + 1),
            _ => return None,
        }
    }
}

fn skip_space(body: &[u8], mut at: usize) -> usize {
    while body.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The index just past the string that starts at `at` (a `"`).
fn string_end(body: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while let Some(&byte) = body.get(i) {
        match byte {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the value that starts at `at`.
fn value_end(body: &[u8], at: usize) -> Option<usize> {
    match body.get(at)? {
        b'"' => string_end(body, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while let Some(&byte) = body.get(i) {
                match byte {
                    b'"' => {
                        i = string_end(body, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len = body[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

#[cfg(test)]
mod tests;

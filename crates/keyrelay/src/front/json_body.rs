//! What every client API's body must be before any of it goes upstream,
//! forwarded or translated: UTF-8 (as JSON is), and nested no deeper than
//! a translation can read. A natively forwarded body is otherwise only
//! skimmed for its model, so without this a provider would get bytes that
//! keyrelay itself refuses when it translates.

use crate::error::ApiError;

/// serde_json's own limit: a document nested deeper cannot be translated.
pub const MAX_DEPTH: usize = 127;

/// Refuses a body that is not UTF-8 or nests deeper than [`MAX_DEPTH`].
pub fn check(body: &[u8]) -> Result<(), ApiError> {
    if let Err(error) = std::str::from_utf8(body) {
        return Err(ApiError::invalid(format!(
            "request body is not UTF-8, which JSON must be (a bad byte at offset {})",
            error.valid_up_to()
        )));
    }
    if nests_deeper_than(body, MAX_DEPTH) {
        return Err(ApiError::invalid(format!(
            "request body nests arrays and objects more than {MAX_DEPTH} deep"
        )));
    }
    Ok(())
}

/// Whether `json` nests arrays and objects more than `max` deep, strings
/// skipped. Malformed JSON is left to the parser.
fn nests_deeper_than(json: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(&byte) = json.get(at) {
        at = match byte {
            b'"' => string_end(json, at + 1),
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
                at + 1
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                at + 1
            }
            _ => at + 1,
        };
    }
    false
}

/// Just past the string whose content starts at `at`, or the end.
fn string_end(json: &[u8], mut at: usize) -> usize {
    while let Some(rest) = json.get(at..) {
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(i) if rest.get(i) == Some(&b'"') => return at + i + 1,
            Some(i) => at += i + 2,
            None => break,
        }
    }
    json.len()
}

#[cfg(test)]
mod tests;

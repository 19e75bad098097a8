//! What every client API's body must be before any of it goes upstream,
//! forwarded or translated: UTF-8 (as JSON is), and nested no deeper than
//! a translation can read. A body that names its model is checked so (and
//! for its syntax) by the one scan that reads its head
//! ([`dialects::client::scan`]); this is the check for the others (Gemini's
//! names its model in the path), which a natively forwarded body would
//! otherwise skip.

use dialects::client::scan::nests_deeper_than;
pub use dialects::client::scan::MAX_DEPTH;

use crate::error::ApiError;

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

#[cfg(test)]
mod tests;

//! Reading keys from the comma/newline/semicolon/whitespace separated lists
//! users put in `*_API_KEYS` variables.

use std::collections::HashSet;

use crate::secret::{ApiKey, Fingerprint};

/// The keys found in a list, in order, and the fingerprints of duplicates dropped.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    pub keys: Vec<ApiKey>,
    pub duplicates: Vec<Fingerprint>,
}

/// Splits on commas, semicolons and any whitespace; trims; drops empties and
/// duplicates (one warning per duplicate, by fingerprint).
pub fn parse_keys<'a>(sources: impl IntoIterator<Item = &'a str>) -> ParsedKeys {
    let mut seen = HashSet::new();
    let mut parsed = ParsedKeys::default();
    for source in sources {
        for raw in source.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            let key = raw.trim();
            if key.is_empty() {
                continue;
            }
            let key = ApiKey::new(key, None);
            if seen.insert(key.fingerprint().id().to_owned()) {
                parsed.keys.push(key);
            } else {
                tracing::warn!(key = %key.fingerprint(), "duplicate API key ignored");
                parsed.duplicates.push(key.fingerprint().clone());
            }
        }
    }
    parsed
}

#[cfg(test)]
mod tests;

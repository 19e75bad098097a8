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
mod tests {
    use super::*;

    fn shown(parsed: &ParsedKeys) -> Vec<String> {
        parsed.keys.iter().map(|k| k.expose().to_owned()).collect()
    }

    #[test]
    fn splits_on_every_separator_and_trims() {
        let parsed = parse_keys(["k-one, k-two;k-three\nk-four\r\n\tk-five  k-six"]);
        assert_eq!(
            shown(&parsed),
            ["k-one", "k-two", "k-three", "k-four", "k-five", "k-six"]
        );
    }

    #[test]
    fn drops_empties_and_duplicates_across_sources() {
        let parsed = parse_keys([",, k-one ,,", "k-two,k-one", "", "k-two"]);
        assert_eq!(shown(&parsed), ["k-one", "k-two"]);
        assert_eq!(parsed.duplicates.len(), 2);
        assert_eq!(parsed.duplicates[0], *parsed.keys[0].fingerprint());
    }
}

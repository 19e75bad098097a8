//! Reading keys from the lists people put in `*_API_KEYS` variables or paste
//! into the admin API, and the one rule every key follows.

use std::collections::HashSet;
use std::fmt;

use crate::secret::{ApiKey, Fingerprint};

/// The rule every API key follows, wherever it comes from (environment,
/// config file, keys file, admin API). A key goes upstream as an HTTP header
/// value, which cannot carry control characters or line breaks; a space
/// inside a key is a paste gone wrong (`Bearer sk-…`), never a key.
pub const KEY_RULE: &str = "an API key is printable ASCII only: no spaces, tabs, line breaks, control characters (such as NUL) or non-ASCII characters inside it";

/// How a list of keys is split into keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Separators {
    /// Commas, semicolons and any whitespace: the `*_API_KEYS` variables.
    Whitespace,
    /// Commas, semicolons and line breaks only; spaces and tabs at either
    /// end of a key are trimmed, and one inside a key breaks [`KEY_RULE`].
    /// For the admin API, where each JSON string is meant as one key or a
    /// pasted list of them.
    LineBreaks,
}

/// The pieces of `source` between separators, trimmed, empties left out.
/// They still have to pass [`check_key`].
pub fn split_keys(source: &str, separators: Separators) -> impl Iterator<Item = &str> {
    source
        .split(move |c: char| {
            c == ','
                || c == ';'
                || match separators {
                    Separators::Whitespace => c.is_whitespace(),
                    Separators::LineBreaks => c == '\n' || c == '\r',
                }
        })
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// A key that breaks [`KEY_RULE`]. It is named by a hash only: the last
/// characters a fingerprint shows may be the very ones that are wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenKey {
    pub key: Fingerprint,
    /// What the key holds that it may not, such as "a control character".
    pub holds: &'static str,
}

impl fmt::Display for BrokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the key {} holds {}, and {KEY_RULE}",
            self.key, self.holds
        )
    }
}

impl std::error::Error for BrokenKey {}

/// Whether `key` (already trimmed) follows [`KEY_RULE`].
pub fn check_key(key: &str) -> Result<(), BrokenKey> {
    let Some(bad) = key.chars().find(|c| !c.is_ascii_graphic()) else {
        return Ok(());
    };
    let holds = match bad {
        ' ' | '\t' => "a space or tab",
        '\n' | '\r' => "a line break",
        c if c.is_control() => "a control character",
        _ => "a non-ASCII character",
    };
    Err(BrokenKey {
        key: Fingerprint::hash_only(key),
        holds,
    })
}

/// The keys found in a list, in order, and what was left out.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    pub keys: Vec<ApiKey>,
    pub duplicates: Vec<Fingerprint>,
    /// Keys that break [`KEY_RULE`]: never in `keys`.
    pub broken: Vec<BrokenKey>,
}

/// Splits on commas, semicolons and any whitespace; trims; drops empties and
/// duplicates (one warning per duplicate, by fingerprint) and keys that
/// break [`KEY_RULE`] (listed in [`ParsedKeys::broken`] for the caller to
/// refuse).
pub fn parse_keys<'a>(sources: impl IntoIterator<Item = &'a str>) -> ParsedKeys {
    parse_key_list(sources, Separators::Whitespace)
}

/// [`parse_keys`] with the given separators.
pub fn parse_key_list<'a>(
    sources: impl IntoIterator<Item = &'a str>,
    separators: Separators,
) -> ParsedKeys {
    let mut seen = HashSet::new();
    let mut parsed = ParsedKeys::default();
    for source in sources {
        for key in split_keys(source, separators) {
            if let Err(broken) = check_key(key) {
                parsed.broken.push(broken);
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

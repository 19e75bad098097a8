//! API keys as secrets, shown only by fingerprint.

use std::fmt;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

/// An upstream API key. `Debug`, `Display` and `Serialize` show its
/// fingerprint only; the key itself is reachable through [`ApiKey::expose`],
/// which the transport calls when it builds the upstream request.
#[derive(Clone)]
pub struct ApiKey {
    secret: Arc<SecretString>,
    fingerprint: Fingerprint,
}

impl ApiKey {
    /// Wraps a key; `label`, when given, replaces the derived fingerprint text.
    pub fn new(key: &str, label: Option<&str>) -> Self {
        ApiKey {
            fingerprint: Fingerprint::of(key, label),
            secret: Arc::new(SecretString::from(key.to_owned())),
        }
    }

    /// The key itself, for building the upstream request. Never log it.
    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.fingerprint)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.fingerprint, f)
    }
}

impl Serialize for ApiKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fingerprint.serialize(serializer)
    }
}

/// How a key is named everywhere outside the transport.
///
/// `shown` is the label if the key has one, else `…` + the key's last 4
/// characters + `#` + 4 hex digits of its SHA-256 (keys shorter than 16
/// characters show the hash only, so the suffix never reveals a large part of
/// them). `id` is 12 hex digits of the SHA-256: stable, unique enough for a
/// pool, and what state stores use.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    shown: Arc<str>,
    id: Arc<str>,
    /// Whether `shown` is a label the configuration gave.
    labelled: bool,
}

/// The longest label shown, in characters: a label is written into headers,
/// logs and metric labels.
pub const MAX_LABEL_CHARS: usize = 64;

/// A label as shown: at most [`MAX_LABEL_CHARS`] characters, control
/// characters replaced by `?`.
fn shown_label(label: &str) -> String {
    label
        .chars()
        .take(MAX_LABEL_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl Fingerprint {
    pub fn of(key: &str, label: Option<&str>) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        let shown = match label {
            Some(label) => shown_label(label),
            None if key.chars().count() >= 16 => {
                let tail: String = key
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("…{tail}#{}", &hex[..4])
            }
            None => format!("#{}", &hex[..8]),
        };
        Fingerprint {
            shown: shown.into(),
            id: hex.into(),
            labelled: label.is_some(),
        }
    }

    /// A fingerprint that shows a hash of `key` only (`#3f9c0a1b`), none
    /// of its characters: for keys that are refused for what they hold.
    pub fn hash_only(key: &str) -> Self {
        let id = Fingerprint::of(key, None).id;
        Fingerprint {
            shown: format!("#{}", &id[..8]).into(),
            id,
            labelled: false,
        }
    }

    /// The label the configuration gave the key, if any (it is then what
    /// the fingerprint shows).
    pub fn label(&self) -> Option<&str> {
        self.labelled.then_some(&*self.shown)
    }

    /// The stable id state stores use (hash only, no key characters).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn as_str(&self) -> &str {
        &self.shown
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.shown)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.shown)
    }
}

#[cfg(test)]
mod tests;

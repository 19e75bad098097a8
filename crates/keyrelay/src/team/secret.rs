//! A virtual key's secret: `kr-` and 40 characters from the operating
//! system's CSPRNG (about 238 bits), shown once when it is made. Only its
//! SHA-256 is ever kept; a presented secret is hashed and looked up.

use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

/// What every virtual key starts with.
pub const PREFIX: &str = "kr-";
/// Random characters after the prefix in a key keyrelay makes.
pub const RANDOM_LEN: usize = 40;
/// What a presented secret may hold after the prefix (keys keyrelay makes
/// have [`RANDOM_LEN`]).
const ACCEPTED_LEN: std::ops::RangeInclusive<usize> = 32..=128;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly made secret. It is neither printed nor serialised by accident:
/// only [`NewSecret::reveal`] gives it out, for the one answer that shows it.
pub struct NewSecret(String);

impl NewSecret {
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecret(…)")
    }
}

/// The system's random source failed; nothing was made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct NoRandomness;

/// `n` characters drawn uniformly from the alphabet.
fn random_chars(n: usize) -> Result<String, NoRandomness> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(n);
    let mut bytes = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut bytes).map_err(|_| NoRandomness)?;
        // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
        for b in bytes.iter().filter(|b| **b < 248) {
            if out.len() == n {
                break;
            }
            out.push(ALPHABET[usize::from(*b) % 62] as char);
        }
    }
    Ok(out)
}

/// A new secret and its hash.
pub fn mint() -> Result<(NewSecret, [u8; 32]), NoRandomness> {
    let secret = format!("{PREFIX}{}", random_chars(RANDOM_LEN)?);
    let hash = hash(&secret);
    Ok((NewSecret(secret), hash))
}

/// A new key id: 12 lower-case hex characters.
pub fn new_id() -> Result<String, NoRandomness> {
    let mut bytes = [0u8; 6];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| NoRandomness)?;
    Ok(hex(&bytes))
}

/// SHA-256 of the whole secret.
pub fn hash(secret: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, secret.as_bytes()).as_ref());
    out
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The 32 bytes a 64-character hex hash stands for.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether a presented credential claims to be a virtual key.
pub fn claims_virtual(presented: &str) -> bool {
    presented.starts_with(PREFIX)
}

/// Whether a credential that starts with `kr-` could be one keyrelay made:
/// 32 to 128 letters and digits after the prefix.
pub fn well_formed(presented: &str) -> bool {
    presented.strip_prefix(PREFIX).is_some_and(|rest| {
        ACCEPTED_LEN.contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests;

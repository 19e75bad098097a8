//! What every launched client gets: a per-run token and a `NO_PROXY` that
//! keeps loopback direct.

/// `NO_PROXY` for the client: the user's own list plus the loopback names,
/// so the client reaches the gateway directly whatever proxy the
/// environment names (a proxy cannot reach this machine's loopback).
pub fn no_proxy(user: Option<&str>) -> String {
    let mut hosts: Vec<&str> = user
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    for loopback in ["127.0.0.1", "localhost"] {
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(loopback)) {
            hosts.push(loopback);
        }
    }
    hosts.join(",")
}

/// A random token for this run only: 32 characters from a 62-letter alphabet.
pub fn run_token() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..32)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("keyrelay-run-{tail}")
}

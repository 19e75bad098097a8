//! The environment Claude Code is launched with.

/// Claude's model slots, each mapped to keyrelay's chosen model.
#[derive(Debug, Clone)]
pub struct ModelSlots {
    pub main: String,
    pub opus: String,
    pub sonnet: String,
    pub haiku: String,
    pub subagent: String,
}

/// Variables removed from Claude Code's environment: its own credentials
/// (keyrelay's per-run token replaces them) and settings that would send it
/// elsewhere.
pub const REMOVED: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
];

/// Variables set for Claude Code: the gateway's URL, the per-run token (sent
/// as `Authorization: Bearer`, which Claude Code accepts without the
/// interactive "use this API key?" prompt), and every model slot.
pub fn claude_env(base_url: &str, token: &str, slots: &ModelSlots) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_BASE_URL", base_url.to_owned()),
        ("ANTHROPIC_AUTH_TOKEN", token.to_owned()),
        ("ANTHROPIC_MODEL", slots.main.clone()),
        ("ANTHROPIC_DEFAULT_OPUS_MODEL", slots.opus.clone()),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", slots.sonnet.clone()),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", slots.haiku.clone()),
        // The older name of the haiku slot, still read by some versions.
        ("ANTHROPIC_SMALL_FAST_MODEL", slots.haiku.clone()),
        ("CLAUDE_CODE_SUBAGENT_MODEL", slots.subagent.clone()),
    ]
}

/// `NO_PROXY` for Claude Code: the user's own list plus the loopback names,
/// so Claude Code reaches the gateway directly whatever proxy the
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

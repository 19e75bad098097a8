//! The client's session, for session affinity: one session keeps one key
//! (good for the provider's prompt cache) while sessions spread over a pool.
//!
//! Where clients name their session, in order:
//! - `x-keyrelay-session`: any client, set by hand;
//! - `x-claude-code-session-id`: Claude Code (a UUID per session);
//! - `session-id`, then `session_id`: Codex CLI (newer, then older form);
//! - an Anthropic Messages body's `metadata.user_id`: older Claude Code
//!   versions put the session there, as `user_…_account_…_session_UUID` or as
//!   a JSON object with a `session_id` field.

use dialects::client::usable_session;
use http::{HeaderMap, HeaderName};

const HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("x-keyrelay-session"),
    HeaderName::from_static("x-claude-code-session-id"),
    HeaderName::from_static("session-id"),
    HeaderName::from_static("session_id"),
];

/// The session a header names, if any (a body's hint comes after it, from
/// the client API's description).
pub fn session_of(headers: &HeaderMap) -> Option<String> {
    HEADERS
        .iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .map(str::trim)
        .find(|v| usable_session(v))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;

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

use http::{HeaderMap, HeaderName};

const HEADERS: [HeaderName; 4] = [
    HeaderName::from_static("x-keyrelay-session"),
    HeaderName::from_static("x-claude-code-session-id"),
    HeaderName::from_static("session-id"),
    HeaderName::from_static("session_id"),
];

/// A longer session name is not a session id; it is ignored.
const MAX_LEN: usize = 200;

/// The session the request names, if any. `user_id` is the Messages body's
/// `metadata.user_id`.
pub fn session_of(headers: &HeaderMap, user_id: Option<&str>) -> Option<String> {
    let from_header = HEADERS
        .iter()
        .filter_map(|name| headers.get(name)?.to_str().ok())
        .map(str::trim)
        .find(|v| usable(v));
    if let Some(session) = from_header {
        return Some(session.to_owned());
    }
    session_in_user_id(user_id?)
}

fn usable(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_LEN
}

fn session_in_user_id(user_id: &str) -> Option<String> {
    let user_id = user_id.trim();
    if user_id.starts_with('{') {
        #[derive(serde::Deserialize)]
        struct Ids {
            session_id: Option<String>,
        }
        let ids: Ids = serde_json::from_str(user_id).ok()?;
        return ids.session_id.filter(|s| usable(s));
    }
    let (_, session) = user_id.rsplit_once("_session_")?;
    usable(session).then(|| session.to_owned())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn headers_in_order_then_the_body() {
        let both = headers(&[
            ("session-id", "codex-1"),
            ("x-claude-code-session-id", "claude-1"),
        ]);
        assert_eq!(session_of(&both, None).as_deref(), Some("claude-1"));
        let own = headers(&[("x-keyrelay-session", "mine"), ("session_id", "old")]);
        assert_eq!(session_of(&own, None).as_deref(), Some("mine"));
        assert_eq!(
            session_of(&headers(&[("session_id", "old")]), None).as_deref(),
            Some("old")
        );
        let legacy = "user_2f1a_account_7c1d_session_57a121ec-f78c-48c3-a745-e3036a3ecc33";
        assert_eq!(
            session_of(&HeaderMap::new(), Some(legacy)).as_deref(),
            Some("57a121ec-f78c-48c3-a745-e3036a3ecc33")
        );
        let json = r#"{"device_id":"d1","account_uuid":"","session_id":"54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe"}"#;
        assert_eq!(
            session_of(&HeaderMap::new(), Some(json)).as_deref(),
            Some("54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe")
        );
        assert_eq!(session_of(&HeaderMap::new(), Some("plain-user")), None);
        assert_eq!(session_of(&headers(&[("session-id", "  ")]), None), None);
        let long = "x".repeat(MAX_LEN + 1);
        assert_eq!(
            session_of(&HeaderMap::new(), Some(&format!("u_session_{long}"))),
            None
        );
    }
}

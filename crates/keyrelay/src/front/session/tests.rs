use http::HeaderValue;

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
        .collect()
}

#[test]
fn session_headers_are_read_in_order() {
    let both = headers(&[
        ("session-id", "codex-1"),
        ("x-claude-code-session-id", "claude-1"),
    ]);
    assert_eq!(session_of(&both).as_deref(), Some("claude-1"));
    let own = headers(&[("x-keyrelay-session", "mine"), ("session_id", "old")]);
    assert_eq!(session_of(&own).as_deref(), Some("mine"));
    assert_eq!(
        session_of(&headers(&[("session_id", "old")])).as_deref(),
        Some("old")
    );
    assert_eq!(session_of(&headers(&[("session-id", "  ")])), None);
    assert_eq!(session_of(&HeaderMap::new()), None);
}

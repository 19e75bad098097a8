use super::{check, nests_deeper_than, MAX_DEPTH};

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn the_depth_limit_is_the_translations_own() {
    assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH)).is_ok());
    assert!(serde_json::from_str::<serde_json::Value>(&nested(MAX_DEPTH + 1)).is_err());
    assert!(check(nested(MAX_DEPTH).as_bytes()).is_ok());
    assert!(check(nested(MAX_DEPTH + 1).as_bytes()).is_err());
}

#[test]
fn brackets_inside_strings_do_not_count() {
    let deep_text = format!(
        r#"{{"text": "{}", "quote": "\"[", "tail": "\\"}}"#,
        "[{".repeat(500)
    );
    assert!(serde_json::from_str::<serde_json::Value>(&deep_text).is_ok());
    assert!(!nests_deeper_than(deep_text.as_bytes(), 2));
    let after_escapes = format!(r#"{{"a": "\\\"", "b": {}}}"#, nested(3));
    assert!(nests_deeper_than(after_escapes.as_bytes(), 3));
    assert!(!nests_deeper_than(after_escapes.as_bytes(), 4));
}

#[test]
fn a_body_that_is_not_utf8_is_refused_with_where() {
    let error = check(b"{\"text\": \"caf\xe9\"}").unwrap_err();
    assert_eq!(error.status, 400);
    assert!(
        error.message.contains("UTF-8") && error.message.contains("13"),
        "{}",
        error.message
    );
    assert!(check("{\"text\": \"café\"}".as_bytes()).is_ok());
}

#[test]
fn unterminated_strings_and_stray_closers_end_the_scan_quietly() {
    for json in [&b"\"abc"[..], b"\"abc\\", b"]]]}}", b"[\"\\"] {
        assert!(!nests_deeper_than(json, 1));
    }
}

use super::*;

#[test]
fn debug_display_and_serialize_never_show_the_key() {
    let key = ApiKey::new("test-key-0123456789-abcdefWXYZ", None);
    for shown in [
        format!("{key:?}"),
        format!("{key}"),
        serde_json::to_string(&key).unwrap_or_default(),
    ] {
        assert!(!shown.contains("0123456789"), "{shown}");
        assert!(shown.contains("…WXYZ#"), "{shown}");
    }
}

#[test]
fn short_keys_show_only_a_hash() {
    let fp = Fingerprint::of("abcd1234", None);
    assert!(fp.as_str().starts_with('#'));
    assert!(!fp.as_str().contains("1234"));
}

#[test]
fn labels_replace_the_shown_text_but_not_the_id() {
    let a = Fingerprint::of("same-key-material-xyz", Some("team-a"));
    let b = Fingerprint::of("same-key-material-xyz", None);
    assert_eq!(a.as_str(), "team-a");
    assert_eq!(a.id(), b.id());
    assert_eq!(a.id().len(), 12);
}

#[test]
fn a_label_is_shown_bounded_and_without_control_characters() {
    let long = "l".repeat(10 * MAX_LABEL_CHARS);
    let fp = Fingerprint::of("test-key-0123456789-abcdefWXYZ", Some(&long));
    assert_eq!(fp.as_str().chars().count(), MAX_LABEL_CHARS);
    let odd = Fingerprint::of("test-key-0123456789-abcdefWXYZ", Some("team\u{7}\nbot"));
    assert_eq!(fp.id(), odd.id());
    assert_eq!(odd.as_str(), "team??bot");
}

#[test]
fn a_hash_only_fingerprint_shows_no_key_characters_and_keeps_the_id() {
    let key = "test-key-0123456789-abcdefWXYZ";
    let fp = Fingerprint::hash_only(key);
    assert_eq!(fp.as_str().len(), 9);
    assert!(fp.as_str().starts_with('#') && !fp.as_str().contains("WXYZ"));
    assert_eq!(fp.id(), Fingerprint::of(key, None).id());
}

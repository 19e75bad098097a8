use super::*;

fn shown(parsed: &ParsedKeys) -> Vec<String> {
    parsed.keys.iter().map(|k| k.expose().to_owned()).collect()
}

#[test]
fn splits_on_every_separator_and_trims() {
    let parsed = parse_keys(["k-one, k-two;k-three\nk-four\r\n\tk-five  k-six"]);
    assert_eq!(
        shown(&parsed),
        ["k-one", "k-two", "k-three", "k-four", "k-five", "k-six"]
    );
}

#[test]
fn drops_empties_and_duplicates_across_sources() {
    let parsed = parse_keys([",, k-one ,,", "k-two,k-one", "", "k-two"]);
    assert_eq!(shown(&parsed), ["k-one", "k-two"]);
    assert_eq!(parsed.duplicates.len(), 2);
    assert_eq!(parsed.duplicates[0], *parsed.keys[0].fingerprint());
}

#[test]
fn keys_with_control_characters_are_left_out_and_named_by_hash_only() {
    let parsed = parse_keys(["k-good-one,k-bad\u{7}bell;k-nul\0nul-0123456789"]);
    assert_eq!(shown(&parsed), ["k-good-one"]);
    assert_eq!(parsed.broken.len(), 2);
    for broken in &parsed.broken {
        assert_eq!(broken.holds, "a control character");
        let text = broken.to_string();
        assert!(text.contains(KEY_RULE), "{text}");
        assert!(
            !text.contains("bell") && !text.contains("6789"),
            "no key characters: {text}"
        );
        assert!(broken.key.as_str().starts_with('#'), "{text}");
    }
}

#[test]
fn pasted_lists_split_on_line_breaks_and_refuse_inner_spaces() {
    let parsed = parse_key_list(
        [
            " k-one ;\r\n\tk-two\t",
            "k-three, Bearer k-four",
            "k-fi\tve",
        ],
        Separators::LineBreaks,
    );
    assert_eq!(shown(&parsed), ["k-one", "k-two", "k-three"]);
    let holds: Vec<&str> = parsed.broken.iter().map(|b| b.holds).collect();
    assert_eq!(holds, ["a space or tab", "a space or tab"]);
}

#[test]
fn the_rule_names_what_a_key_holds() {
    assert!(check_key("sk-proj_AZaz09-._~+/=").is_ok());
    for (key, holds) in [
        ("k\0ey", "a control character"),
        ("k\u{1b}[0mey", "a control character"),
        ("k\u{7f}ey", "a control character"),
        ("k ey", "a space or tab"),
        ("k\tey", "a space or tab"),
        ("k\ney", "a line break"),
        ("k\u{a0}ey", "a non-ASCII character"),
        ("k\u{200b}ey", "a non-ASCII character"),
    ] {
        assert_eq!(check_key(key).map_err(|b| b.holds), Err(holds), "{key:?}");
    }
}

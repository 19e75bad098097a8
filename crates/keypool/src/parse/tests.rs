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

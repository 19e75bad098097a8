use super::*;

#[test]
fn a_minted_secret_is_prefixed_long_well_formed_and_new_each_time() {
    let (a, hash_a) = mint().unwrap();
    let (b, _) = mint().unwrap();
    assert!(a.reveal().starts_with("kr-"));
    assert_eq!(a.reveal().len(), 3 + RANDOM_LEN);
    assert!(well_formed(a.reveal()));
    assert_ne!(a.reveal(), b.reveal());
    assert_eq!(hash(a.reveal()), hash_a);
    assert_eq!(format!("{a:?}"), "NewSecret(…)", "Debug never shows it");
}

#[test]
fn characters_cover_the_whole_alphabet() {
    let text: String = (0..20).map(|_| random_chars(200).unwrap()).collect();
    for c in ALPHABET.iter() {
        assert!(text.contains(*c as char), "{} never drawn", *c as char);
    }
}

#[test]
fn malformed_virtual_keys_are_told_apart() {
    assert!(claims_virtual("kr-short"));
    assert!(!well_formed("kr-short"));
    assert!(!well_formed(&format!("kr-{}!", "a".repeat(40))));
    assert!(!well_formed(&format!("kr-{}", "a".repeat(129))));
    assert!(well_formed(&format!("kr-{}", "a".repeat(32))));
    assert!(!claims_virtual("sk-ant-something"));
}

#[test]
fn hashes_round_trip_through_hex() {
    let h = hash("kr-example");
    assert_eq!(parse_hash(&hex(&h)), Some(h));
    assert_eq!(parse_hash("zz"), None);
    assert_eq!(new_id().unwrap().len(), 12);
}

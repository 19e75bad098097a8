use super::super::ids::*;

fn anthropic_id_is_valid(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[test]
fn minted_ids_are_deterministic_unique_and_anthropic_shaped() {
    let mut ids = ToolIds::new("msg_01XyZ");
    let first = ids.mint(None, None);
    let second = ids.mint(None, None);
    assert_eq!(first, "toolu_gm01XyZ-0");
    assert_eq!(second, "toolu_gm01XyZ-1");
    assert_eq!(ToolIds::new("msg_01XyZ").mint(None, None), first);
    assert_eq!(decode(&first), ToolRef::default());
}

#[test]
fn a_signature_with_base64_symbols_and_padding_round_trips_exactly() {
    let signature = "CiQB0e2Kb6Tk+dQs/DxtD31FVR08uw==";
    let id = ToolIds::new("msg_1").mint(None, Some(signature));
    assert!(anthropic_id_is_valid(&id), "{id}");
    assert_eq!(
        decode(&id),
        ToolRef {
            gemini_id: None,
            signature: Some(signature.to_owned())
        }
    );
}

#[test]
fn gemini_call_ids_round_trip_with_or_without_a_signature() {
    let mut ids = ToolIds::new("msg_1");
    let only_id = ids.mint(Some("function-call-1621_x"), None);
    assert!(anthropic_id_is_valid(&only_id), "{only_id}");
    assert_eq!(
        decode(&only_id).gemini_id.as_deref(),
        Some("function-call-1621_x")
    );
    assert_eq!(decode(&only_id).signature, None);

    let both = ids.mint(Some("é/?#"), Some("U0lH"));
    assert!(anthropic_id_is_valid(&both), "{both}");
    assert_eq!(
        decode(&both),
        ToolRef {
            gemini_id: Some("é/?#".to_owned()),
            signature: Some("U0lH".to_owned())
        }
    );
}

#[test]
fn ids_from_other_models_carry_nothing() {
    for foreign in [
        "toolu_01A09q90qw90lq917835lq9",
        "call_abc_def",
        "toolu_gm",
        "toolu_gmx",
        "",
    ] {
        assert_eq!(decode(foreign), ToolRef::default(), "{foreign}");
    }
}

#[test]
fn corrupted_payloads_are_ignored_instead_of_sent_to_gemini() {
    // Odd hex length, non-hex, and a base64 length no encoder produces.
    assert_eq!(decode("toolu_gmx-0_abc").gemini_id, None);
    assert_eq!(decode("toolu_gmx-0_zz").gemini_id, None);
    assert_eq!(decode("toolu_gmx-0__A").signature, None);
    assert_eq!(decode("toolu_gmx-0__AAAAA").signature, None);
}

#[test]
fn text_that_is_not_base64_is_not_minted_into_an_id() {
    let id = ToolIds::new("msg_1").mint(None, Some("not base64!"));
    assert_eq!(id, "toolu_gm1-0");
}

#[test]
fn thinking_signatures_are_marked_so_foreign_ones_are_never_forwarded() {
    let marked = thinking_signature("CiIB0e2Kb3a4gkvo");
    assert_eq!(marked, "gemini:CiIB0e2Kb3a4gkvo");
    assert_eq!(gemini_signature(&marked), Some("CiIB0e2Kb3a4gkvo"));
    // A Claude signature from earlier in the conversation.
    assert_eq!(gemini_signature("EqQBCgIYAhIM1gbcDa9GJwZA2b3h"), None);
    assert_eq!(gemini_signature("gemini:"), None);
}

#[test]
fn ids_stay_within_openais_forty_characters_whatever_the_signature() {
    let signature = "A".repeat(6_000);
    let mut ids = ToolIds::new("msg_0123456789abcdefghijklmnopqrstuvwxyz0123456789");
    for _ in 0..120 {
        let id = ids.mint(Some("a-rather-long-gemini-call-id-0001"), Some(&signature));
        assert!(id.len() <= 40, "{id} is {} characters", id.len());
        assert!(anthropic_id_is_valid(&id), "{id}");
    }
}

#[test]
fn ids_minted_long_by_earlier_versions_still_decode() {
    // `toolu_gm{local}_{hex("fc-1")}_{base64url("Q0FMTC8rMQ==")}`.
    assert_eq!(
        decode("toolu_gmOld-0_66632d31_Q0FMTC8rMQ"),
        ToolRef {
            gemini_id: Some("fc-1".to_owned()),
            signature: Some("Q0FMTC8rMQ==".to_owned())
        }
    );
    assert_eq!(
        decode("toolu_gmOld-1__Q0FMTC8rMQ").signature.as_deref(),
        Some("Q0FMTC8rMQ==")
    );
}

#[test]
fn an_id_this_process_never_minted_carries_nothing() {
    assert_eq!(decode("toolu_gmNeverMintedHere-0"), ToolRef::default());
}

#[test]
fn the_memory_forgets_the_oldest_calls_once_over_its_budget() {
    let signed = |s: &str| ToolRef {
        gemini_id: None,
        signature: Some(s.to_owned()),
    };
    // Each entry: twice the id (2 × 4) plus a 100-byte signature.
    let mut memory = Memory::new(250);
    memory.remember("id-0", signed(&"a".repeat(100)));
    memory.remember("id-1", signed(&"b".repeat(100)));
    assert_eq!(memory.recall("id-0"), signed(&"a".repeat(100)));
    memory.remember("id-2", signed(&"c".repeat(100)));
    assert_eq!(memory.recall("id-0"), ToolRef::default());
    assert_eq!(memory.recall("id-1"), signed(&"b".repeat(100)));
    assert_eq!(memory.recall("id-2"), signed(&"c".repeat(100)));
    // The same id again replaces its entry instead of counting twice.
    memory.remember("id-2", signed(&"d".repeat(100)));
    assert_eq!(memory.recall("id-1"), signed(&"b".repeat(100)));
    assert_eq!(memory.recall("id-2"), signed(&"d".repeat(100)));
}

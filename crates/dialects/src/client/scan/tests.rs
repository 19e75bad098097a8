use super::*;

const SAMPLE: &str = r#" {"model" : "claude-sonnet-4-5", "max_tokens": 1024, "temperature": -0.5e-3,
 "metadata": {"user_id": "user_a_account_b_session_c"}, "stream": true,
 "messages": [{"role": "user", "content": "caf\u00e9 \"quoted\" \\ tab\t— 日本語 🦀 [{"},
   {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "input": {"a": [1, 2.5, null, false, true, {}], "b": []}}]}],
 "mod\u0065l_hint": 0, "tools": []} "#;

fn serde_accepts(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body).is_ok()
}

#[test]
fn finds_top_level_fields_and_only_those() {
    let body = SAMPLE.as_bytes();
    let [model, stream, user_id, missing] =
        object_fields(body, ["model", "stream", "user_id", "prompt_cache_key"]).unwrap();
    assert_eq!(&body[model.unwrap()], br#""claude-sonnet-4-5""#);
    assert_eq!(&body[stream.unwrap()], b"true");
    assert_eq!(user_id, None, "a nested field is not a top-level one");
    assert_eq!(missing, None);
    assert_eq!(
        top_level_value(body, "max_tokens").map(|r| &body[r]),
        Some(&b"1024"[..])
    );
}

#[test]
fn an_escaped_key_is_the_key_it_decodes_to() {
    let body = br#"{"mo\u0064el": "m", "a": 1}"#;
    let [model] = object_fields(body, ["model"]).unwrap();
    assert_eq!(&body[model.unwrap()], br#""m""#);
}

#[test]
fn agrees_with_serde_on_every_prefix_of_a_document() {
    // Every cut of a document with escapes, non-ASCII text, numbers and
    // literals is judged as serde_json judges it.
    let body = SAMPLE.as_bytes();
    for end in 0..=body.len() {
        let prefix = &body[..end];
        let ours = object_fields(prefix, ["model"]).is_ok();
        assert_eq!(
            ours,
            serde_accepts(prefix),
            "cut at {end}: {:?}",
            String::from_utf8_lossy(prefix)
        );
    }
}

#[test]
fn refuses_what_serde_refuses() {
    for bad in [
        &br#"{"a": 01}"#[..],
        br#"{"a": 1.}"#,
        br#"{"a": -}"#,
        br#"{"a": 1e}"#,
        br#"{"a": tru}"#,
        br#"{"a": "\x"}"#,
        br#"{"a": "\u12G4"}"#,
        b"{\"a\": \"line\nbreak\"}",
        br#"{"a": [1,]}"#,
        br#"{"a": 1,}"#,
        br#"{"a" 1}"#,
        br#"{a: 1}"#,
        br#"{"a": 1} x"#,
        br#"{"a": 1}{}"#,
        br#"{"a": +1}"#,
        br#"{"a": 'x'}"#,
    ] {
        assert!(!serde_accepts(bad), "{}", String::from_utf8_lossy(bad));
        assert!(
            matches!(object_fields(bad, ["a"]), Err(ScanError::Syntax { .. })),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    for good in [
        &br#"{}"#[..],
        br#"{"a": -0.0E+5}"#,
        br#"{"a": "\/\b\f\n\r\t\u00AF"}"#,
        b" {\"a\" :[ ] }\n",
    ] {
        assert!(serde_accepts(good) && object_fields(good, ["a"]).is_ok());
    }
}

#[test]
fn not_utf8_then_too_deep_then_malformed() {
    let deep = format!(
        "{{\"a\": {}{}}}",
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert_eq!(
        object_fields(deep.as_bytes(), ["a"]),
        Err(ScanError::TooDeep)
    );
    let within = format!(
        "{{\"a\": {}{}}}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert!(object_fields(within.as_bytes(), ["a"]).is_ok());
    assert!(serde_accepts(within.as_bytes()));
    // Malformed before the depth: still too deep, as a client was told before.
    let malformed_then_deep = format!("{{\"a\": 01, \"b\": {}", "[".repeat(200));
    assert_eq!(
        object_fields(malformed_then_deep.as_bytes(), ["a"]),
        Err(ScanError::TooDeep)
    );
    assert_eq!(
        object_fields(b"{\"text\": \"caf\xe9\"}", ["text"]),
        Err(ScanError::NotUtf8 { at: 13 })
    );
    assert_eq!(
        object_fields(b"\xff\xfe", ["a"]),
        Err(ScanError::NotUtf8 { at: 0 })
    );
    // A Latin-1 byte deep inside a long string, past the eight-byte skips.
    let mut long = b"{\"a\": \"".to_vec();
    long.extend_from_slice(&[b'x'; 100]);
    long.extend_from_slice(b"\xe9\"}");
    assert_eq!(
        object_fields(&long, ["a"]),
        Err(ScanError::NotUtf8 { at: 107 })
    );
    for bad_utf8 in [
        &b"\xc0\xaf"[..],
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xe2\x82",
    ] {
        let body = [&b"{\"a\": \""[..], bad_utf8, b"\"}"].concat();
        assert!(std::str::from_utf8(&body).is_err());
        assert!(matches!(
            object_fields(&body, ["a"]),
            Err(ScanError::NotUtf8 { .. })
        ));
    }
    assert_eq!(object_fields(b"[1, 2]", ["a"]), Err(ScanError::NotObject));
    assert_eq!(
        object_fields(b"{\"a\": 1, \"a\": 2}", ["a"]),
        Err(ScanError::Duplicate(0))
    );
}

#[test]
fn the_word_skip_stops_at_each_kind_of_byte_wherever_it_falls() {
    for offset in 0..40 {
        for special in [&b"\""[..], b"\\n", b"\x01", "é".as_bytes()] {
            let mut text = vec![b'a'; offset];
            text.extend_from_slice(special);
            text.extend_from_slice(&[b'b'; 9]);
            let body = [&b"{\"a\": \""[..], &text, b"\"}"].concat();
            assert_eq!(
                object_fields(&body, ["a"]).is_ok(),
                serde_accepts(&body),
                "{offset}: {:?}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}

#[test]
fn lenient_depth_skips_strings() {
    let deep_text = format!(
        r#"{{"text": "{}", "quote": "\"[", "tail": "\\"}}"#,
        "[{".repeat(500)
    );
    assert!(!nests_deeper_than(deep_text.as_bytes(), 2));
    let after_escapes = format!(
        r#"{{"a": "\\\"", "b": {}{}}}"#,
        "[".repeat(3),
        "]".repeat(3)
    );
    assert!(nests_deeper_than(after_escapes.as_bytes(), 3));
    assert!(!nests_deeper_than(after_escapes.as_bytes(), 4));
}

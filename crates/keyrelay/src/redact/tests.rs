use super::{redact, redact_keys};

const KEY: &str = "sk-proj-FAKEkeyFAKEkeyFAKEkey0000";
/// Another key of the same pool, not the one the attempt sent.
const OTHER: &str = "sk-test-key-OTHERotherOTHER9wxyz";

fn text(body: &[u8], key: &str) -> String {
    String::from_utf8(redact(body, key).to_vec()).unwrap_or_default()
}

fn pool_text(body: &str) -> String {
    String::from_utf8(redact_keys(body.as_bytes(), [KEY, OTHER]).to_vec()).unwrap_or_default()
}

#[test]
fn exact_key_is_removed() {
    let body = format!(r#"{{"error":"bad key {KEY} given"}}"#);
    assert_eq!(
        text(body.as_bytes(), KEY),
        r#"{"error":"bad key [redacted] given"}"#
    );
}

#[test]
fn every_occurrence_is_removed_at_the_edges_and_back_to_back() {
    let body = format!("{KEY}{KEY}\"{KEY}\"{KEY}");
    assert_eq!(
        text(body.as_bytes(), KEY),
        "[redacted][redacted]\"[redacted]\"[redacted]"
    );
}

#[test]
fn any_key_of_the_pool_is_removed_not_only_the_one_sent() {
    let body = format!("keys {KEY} and {OTHER} and sk-test-key-OTHERot-truncated");
    assert_eq!(
        pool_text(&body),
        "keys [redacted] and [redacted] and [redacted]"
    );
}

#[test]
fn openai_masked_echo_is_removed_and_sentence_dot_kept() {
    // As OpenAI sends it (a masked key of another account; first 5 and last 4 kept).
    let body = br#"{"message":"Incorrect API key provided: sk-PMafP***************************************E873. You can find your API key at https://platform.openai.com/account/api-keys."}"#;
    let out = text(body, "sk-other-key-0000000000");
    assert!(out.contains("provided: [redacted]. You can find"), "{out}");
    assert!(
        out.contains("https://platform.openai.com/account/api-keys."),
        "{out}"
    );
}

#[test]
fn short_masks_of_other_vendors_are_removed() {
    // xAI keeps two characters at each end, DeepSeek the last four.
    let out = pool_text(
        "Incorrect API key provided: xa***Qs. Your api key: ****6eA3 is invalid, ****Njk= too",
    );
    assert_eq!(
        out,
        "Incorrect API key provided: [redacted]. Your api key: [redacted] is invalid, [redacted]= too"
    );
}

#[test]
fn a_token_ending_with_a_keys_last_characters_is_removed_when_it_looks_like_a_key() {
    for echo in [
        "sk-…wxyz",
        "sk-proj-…wxyz",
        "sk-te...wxyz",
        "key_ending_in_9wxyz",
        "Ab3xxxxxxxxxxxxwxyz",
    ] {
        let out = pool_text(&format!("the key {echo} was revoked"));
        assert_eq!(out, "the key [redacted] was revoked", "{echo}");
    }
}

#[test]
fn words_that_end_like_a_key_are_kept() {
    let key = "test-key-FAKE0000ment";
    let body = "An environment argument was sent. Try again... or later… (wxyz, ment)";
    assert_eq!(text(body.as_bytes(), key), body);
    assert_eq!(pool_text(body), body);
}

#[test]
fn token_with_key_prefix_is_removed() {
    let body = b"Consumer 'api_key:AIzaFakeTRUNCATED' suspended; key AIzaFakeOther too";
    let out = text(body, "AIzaFakeFakeKey000");
    assert_eq!(
        out,
        "Consumer 'api_key:[redacted]' suspended; key [redacted] too"
    );
}

#[test]
fn exact_key_after_a_label_is_removed() {
    let key = "AIzaFakeFakeKey000";
    let body = format!("Consumer 'api_key:{key}' has been suspended.");
    assert_eq!(
        text(body.as_bytes(), key),
        "Consumer 'api_key:[redacted]' has been suspended."
    );
}

#[test]
fn clean_text_is_unchanged() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    assert_eq!(text(body, KEY).as_bytes(), body);
    let openai = br#"{"error":{"message":"Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000. Please try again in 2.5s.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}"#;
    assert_eq!(text(openai, KEY).as_bytes(), openai);
}

#[test]
fn non_utf8_bodies_are_scrubbed_too() {
    let mut body = vec![0xff, 0xfe, b' '];
    body.extend_from_slice(KEY.as_bytes());
    body.extend_from_slice(b" sk-proj-abc****wxyz \xff ");
    body.extend_from_slice(&OTHER.as_bytes()[..12]);
    body.extend_from_slice(b"\xfe");
    let out = redact_keys(&body, [KEY, OTHER]);
    let mut expected = vec![0xff, 0xfe, b' '];
    expected.extend_from_slice(b"[redacted] [redacted] \xff [redacted]");
    assert_eq!(out.as_ref(), expected.as_slice());
}

#[test]
fn empty_and_short_keys_do_not_eat_text() {
    let body = b"abc abcdef ab";
    assert_eq!(text(body, ""), "abc abcdef ab");
    assert_eq!(text(body, "ab"), "[redacted]c [redacted]cdef [redacted]");
    assert_eq!(text(b"", KEY), "");
    assert_eq!(
        String::from_utf8_lossy(&redact_keys(b"masked sk-a***z", [])),
        "masked [redacted]"
    );
}

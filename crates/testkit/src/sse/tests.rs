use bytes::Bytes;

use super::{split_after, SseEvent};

#[test]
fn named_event_has_event_and_data_lines() {
    let event = SseEvent::named("ping", r#"{"type":"ping"}"#);
    assert_eq!(
        event.encode(),
        Bytes::from_static(b"event: ping\ndata: {\"type\":\"ping\"}\n\n")
    );
}

#[test]
fn unnamed_event_has_only_data() {
    assert_eq!(
        SseEvent::data("[DONE]").encode(),
        Bytes::from_static(b"data: [DONE]\n\n")
    );
}

#[test]
fn multi_line_data_gets_one_data_line_per_line() {
    let event = SseEvent::named("note", "first\nsecond\r\nthird");
    assert_eq!(
        event.encode(),
        Bytes::from_static(b"event: note\ndata: first\ndata: second\ndata: third\n\n")
    );
}

#[test]
fn crlf_encoding_uses_crlf_everywhere() {
    assert_eq!(
        SseEvent::data("x").encode_with("\r\n"),
        Bytes::from_static(b"data: x\r\n\r\n")
    );
}

#[test]
fn split_after_keeps_delimiters_and_a_trailing_remainder() {
    let body = Bytes::from_static(b"data: a\n\ndata: b\n\ntail");
    let pieces = split_after(&body, b"\n\n");
    assert_eq!(pieces, ["data: a\n\n", "data: b\n\n", "tail"]);
}

#[test]
fn split_after_of_empty_body_is_empty() {
    assert!(split_after(&Bytes::new(), b"\n").is_empty());
}

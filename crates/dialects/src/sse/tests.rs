use super::*;

fn decode_in_pieces(input: &[u8], sizes: &[usize]) -> Vec<SseEvent> {
    let mut decoder = SseDecoder::default();
    let mut events = Vec::new();
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].clamp(1, rest.len());
        decoder
            .push_into(&rest[..n], &mut events)
            .expect("within cap");
        rest = &rest[n..];
        i += 1;
    }
    events
}

fn ev(event: Option<&str>, data: &str) -> SseEvent {
    SseEvent {
        event: event.map(str::to_owned),
        data: data.to_owned(),
        id: None,
    }
}

#[test]
fn decodes_events_with_names_and_multiline_data() {
    let input =
        b"event: message_start\ndata: {\"a\":1}\n\n: comment\ndata: line one\ndata: line two\n\n";
    assert_eq!(
        decode_in_pieces(input, &[input.len()]),
        [
            ev(Some("message_start"), "{\"a\":1}"),
            ev(None, "line one\nline two")
        ]
    );
}

#[test]
fn every_line_ending_and_every_split_gives_the_same_events() {
    let lf = "event: a\ndata: 1\n\ndata:2\n\nevent: b\ndata: x\ndata: y\n\n";
    let expected = [ev(Some("a"), "1"), ev(None, "2"), ev(Some("b"), "x\ny")];
    for input in [
        lf.to_owned(),
        lf.replace('\n', "\r\n"),
        lf.replace('\n', "\r"),
    ] {
        for sizes in [&[1usize][..], &[2], &[3, 1], &[7, 5, 1], &[1000]] {
            assert_eq!(
                decode_in_pieces(input.as_bytes(), sizes),
                expected,
                "{input:?} {sizes:?}"
            );
        }
    }
}

#[test]
fn an_unterminated_event_is_reported_on_finish() {
    let mut decoder = SseDecoder::default();
    assert!(decoder.push(b"data: partial").expect("ok").is_empty());
    assert!(decoder.finish());
    assert!(!decoder.finish());
}

#[test]
fn a_leading_bom_and_fields_without_values_are_handled() {
    let input = "\u{feff}data\n\nevent: e\nid: 7\ndata: v\n\n";
    let events = decode_in_pieces(input.as_bytes(), &[2]);
    assert_eq!(events[0], ev(None, ""));
    assert_eq!(events[1].id.as_deref(), Some("7"));
}

#[test]
fn an_event_past_the_cap_is_an_error() {
    let mut decoder = SseDecoder::new(16);
    assert!(decoder.push(b"data: 0123456789").is_ok());
    assert_eq!(
        decoder.push(b"abcdef"),
        Err(SseError::EventTooLarge { limit: 16 })
    );
    let mut lines = SseDecoder::new(16);
    assert!(lines.push(b"data: 0123456789\n").is_ok());
    assert!(lines.push(b"data: 0123456789\n").is_err());
}

use proptest::prelude::*;

use super::*;

fn split(framing: Framing, chunks: &[&[u8]]) -> (Vec<String>, Option<String>) {
    let mut split = EventSplit::new(framing, 1024);
    let mut out = Vec::new();
    for chunk in chunks {
        split.push(chunk, &mut out).unwrap();
    }
    let text = |b: &Bytes| String::from_utf8(b.to_vec()).unwrap();
    let rest = split.finish();
    (out.iter().map(text).collect(), rest.as_ref().map(text))
}

#[test]
fn server_sent_events_end_at_their_blank_line_whatever_the_line_ends() {
    let stream = b"event: a\ndata: 1\n\ndata: 2\r\n\r\n: comment\ndata: 3\n\ndata: 4";
    let (events, rest) = split(Framing::Sse, &[stream]);
    assert_eq!(
        events,
        [
            "event: a\ndata: 1\n\n",
            "data: 2\r\n\r\n",
            ": comment\ndata: 3\n\n"
        ]
    );
    assert_eq!(rest.as_deref(), Some("data: 4"));
}

#[test]
fn ndjson_lines_are_events() {
    let (events, rest) = split(Framing::Ndjson, &[b"{\"a\":1}\n{\"b\"", b":2}\r\n{"]);
    assert_eq!(events, ["{\"a\":1}\n", "{\"b\":2}\r\n"]);
    assert_eq!(rest.as_deref(), Some("{"));
}

#[test]
fn an_event_past_the_cap_is_an_error() {
    let mut split = EventSplit::new(Framing::Sse, 8);
    let mut out = Vec::new();
    assert!(split.push(b"data: 12345", &mut out).is_err());
}

proptest! {
    /// However the bytes are split, the events are the same and together
    /// they are the stream.
    #[test]
    fn events_do_not_depend_on_how_the_bytes_are_split(cuts in proptest::collection::vec(0usize..60, 0..8)) {
        let stream: &[u8] = b"event: a\ndata: 1\n\ndata: 2\r\n\r\n\ndata: 3\ndata: 4\n\n";
        let (whole, _) = split(Framing::Sse, &[stream]);
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for cut in cuts {
            let cut = cut.min(stream.len());
            pieces.push(&stream[from..cut.max(from)]);
            from = cut.max(from);
        }
        pieces.push(&stream[from..]);
        let (events, rest) = split(Framing::Sse, &pieces);
        prop_assert_eq!(&events, &whole);
        prop_assert_eq!(rest, None);
        let joined = events.concat();
        prop_assert_eq!(joined.as_bytes(), stream);
    }
}

use super::*;

#[test]
fn splits_lines_across_chunks_and_skips_blanks() {
    let mut d = NdjsonDecoder::default();
    assert!(d.push(b"{\"a\"").unwrap().is_empty());
    let lines = d.push(b":1}\r\n\n{\"b\":2}\n{\"c\"").unwrap();
    assert_eq!(
        lines,
        [
            Bytes::from_static(b"{\"a\":1}"),
            Bytes::from_static(b"{\"b\":2}")
        ]
    );
    assert_eq!(d.finish(), Some(Bytes::from_static(b"{\"c\"")));
    assert_eq!(d.finish(), None);
}

#[test]
fn a_line_past_the_cap_is_an_error() {
    let mut d = NdjsonDecoder::new(4);
    assert_eq!(d.push(b"12345"), Err(LineTooLong { limit: 4 }));
}

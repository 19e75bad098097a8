use super::*;

#[test]
fn tables_align_columns_without_colour() {
    let rows = vec![
        vec![
            ("openai".to_owned(), Tone::Plain),
            ("valid".to_owned(), Tone::Good),
        ],
        vec![
            ("gemini".to_owned(), Tone::Plain),
            ("rate-limited".to_owned(), Tone::Warn),
        ],
    ];
    assert_eq!(
        table(&["PROVIDER", "RESULT"], &rows, false),
        "PROVIDER  RESULT\nopenai    valid\ngemini    rate-limited\n"
    );
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration_ms(0), "—");
    assert_eq!(duration_ms(1_500), "2s");
    assert_eq!(duration_ms(125_000), "2m 05s");
    assert_eq!(duration_ms(3_723_000), "1h 02m");
}

//! Real Ollama `/api/chat` NDJSON streams (tests/fixtures/ollama_*.ndjson, see
//! SOURCES-ollama.md) through the stream translator: snapshots of the Anthropic
//! events, and proof that the events do not depend on how the bytes are split.

use dialects::anthropic::StreamEvent;
use dialects::ollama::Ollama;
use dialects::Translator;
use proptest::prelude::*;

const MODEL: &str = "qwen3:8b";
const ID: &str = "msg_01ollama";

const FIXTURES: &[(&str, &[u8])] = &[
    ("text", include_bytes!("fixtures/ollama_text.ndjson")),
    (
        "thinking",
        include_bytes!("fixtures/ollama_thinking.ndjson"),
    ),
    (
        "thinking_length",
        include_bytes!("fixtures/ollama_thinking_length.ndjson"),
    ),
    (
        "tool_call",
        include_bytes!("fixtures/ollama_tool_call.ndjson"),
    ),
    (
        "thinking_tool_calls",
        include_bytes!("fixtures/ollama_thinking_tool_calls.ndjson"),
    ),
    (
        "error_line",
        include_bytes!("fixtures/ollama_error_line.ndjson"),
    ),
];

fn fixture(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
        .expect("known fixture")
}

/// Feeds `chunks` in order, then ends the body normally.
fn translate<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut stream = Ollama.stream(MODEL, ID);
    let mut out = Vec::new();
    for chunk in chunks {
        stream.push(chunk, &mut out);
    }
    stream.finish(None, &mut out);
    out
}

fn names(events: &[StreamEvent]) -> Vec<&'static str> {
    events.iter().map(StreamEvent::name).collect()
}

#[test]
fn text_stream_becomes_one_text_block_with_cache_split_usage() {
    insta::assert_json_snapshot!("text", translate([fixture("text")]));
}

#[test]
fn thinking_stream_closes_the_thinking_block_before_the_text() {
    insta::assert_json_snapshot!("thinking", translate([fixture("thinking")]));
}

#[test]
fn done_reason_length_ends_with_max_tokens() {
    insta::assert_json_snapshot!("thinking_length", translate([fixture("thinking_length")]));
}

#[test]
fn a_whole_tool_call_becomes_one_tool_use_block_with_one_input_delta() {
    insta::assert_json_snapshot!("tool_call", translate([fixture("tool_call")]));
}

#[test]
fn two_tool_calls_in_one_line_become_two_tool_use_blocks_after_thinking() {
    insta::assert_json_snapshot!(
        "thinking_tool_calls",
        translate([fixture("thinking_tool_calls")])
    );
}

#[test]
fn an_error_line_closes_the_text_block_and_ends_with_an_error_event() {
    insta::assert_json_snapshot!("error_line", translate([fixture("error_line")]));
}

#[test]
fn a_body_without_the_done_line_ends_with_an_api_error() {
    let text = fixture("text");
    let cut = text.len()
        - 1
        - text[..text.len() - 1]
            .iter()
            .rev()
            .position(|&b| b == b'\n')
            .unwrap_or(0);
    let events = translate([&text[..cut]]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "error"
        ]
    );
    let error = serde_json::to_value(events.last()).expect("serialises");
    assert_eq!(error["error"]["type"], "api_error");
}

#[test]
fn a_broken_connection_ends_with_an_api_error_carrying_its_message() {
    let mut stream = Ollama.stream(MODEL, ID);
    let mut out = Vec::new();
    stream.push(&fixture("thinking")[..150], &mut out);
    assert!(stream.started());
    stream.finish(Some("connection reset"), &mut out);
    let error = serde_json::to_value(out.last()).expect("serialises");
    assert_eq!(
        error["error"],
        serde_json::json!({"type": "api_error", "message": "connection reset"})
    );
    assert_eq!(
        out.iter()
            .filter(|e| e.name() == "content_block_start")
            .count(),
        1
    );
    assert_eq!(
        out.iter()
            .filter(|e| e.name() == "content_block_stop")
            .count(),
        1
    );
}

#[test]
fn a_last_line_without_newline_still_finishes_the_message() {
    let text = fixture("text");
    let events = translate([&text[..text.len() - 1]]);
    assert_eq!(events, translate([text]));
}

#[test]
fn a_rate_limit_error_line_becomes_a_rate_limit_error() {
    let events = translate([&br#"{"error":"you've reached your hourly usage limit, please wait or upgrade to continue"}"#[..]]);
    assert_eq!(names(&events), ["message_start", "error"]);
    let error = serde_json::to_value(&events[1]).expect("serialises");
    assert_eq!(error["error"]["type"], "rate_limit_error");
}

#[test]
fn nothing_follows_the_done_line() {
    let mut body = fixture("text").to_vec();
    body.extend_from_slice(
        b"{\"message\":{\"role\":\"assistant\",\"content\":\"late\"},\"done\":false}\n",
    );
    assert_eq!(translate([body.as_slice()]), translate([fixture("text")]));
}

#[test]
fn junk_lines_and_unknown_fields_are_ignored() {
    let mut body = b"not json\n{\"model\":\"x\",\"new_field\":{\"a\":1}}\n".to_vec();
    body.extend_from_slice(fixture("text"));
    assert_eq!(translate([body.as_slice()]), translate([fixture("text")]));
}

proptest! {
    #[test]
    fn events_do_not_depend_on_how_the_body_is_split(
        which in 0..FIXTURES.len(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let (_, body) = FIXTURES[which];
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
        points.push(0);
        points.push(body.len());
        points.sort_unstable();
        let pieces = points.windows(2).map(|w| &body[w[0]..w[1]]);
        prop_assert_eq!(translate(pieces), translate([body]));
    }
}

#[test]
fn events_are_the_same_when_fed_one_byte_at_a_time() {
    for (name, body) in FIXTURES {
        let bytes = body.chunks(1);
        assert_eq!(translate(bytes), translate([*body]), "{name}");
    }
}

//! Real Gemini `streamGenerateContent?alt=sse` streams
//! (tests/fixtures/gemini_*.sse, see SOURCES-gemini.md) through the stream
//! translator: snapshots of the Anthropic events, and proof that the events do
//! not depend on how the bytes are split.

use dialects::anthropic::StreamEvent;
use dialects::gemini::Gemini;
use dialects::Translator;
use proptest::prelude::*;
use serde_json::{json, Value};

const MODEL: &str = "gemini-2.5-flash";
const ID: &str = "msg_01gemini";

const FIXTURES: &[(&str, &[u8])] = &[
    ("text", include_bytes!("fixtures/gemini_text.sse")),
    (
        "usage_final_chunk",
        include_bytes!("fixtures/gemini_usage_final_chunk.sse"),
    ),
    ("tool_call", include_bytes!("fixtures/gemini_tool_call.sse")),
    (
        "parallel_calls",
        include_bytes!("fixtures/gemini_parallel_calls.sse"),
    ),
    ("thinking", include_bytes!("fixtures/gemini_thinking.sse")),
    (
        "thinking_signature",
        include_bytes!("fixtures/gemini_thinking_signature.sse"),
    ),
    (
        "max_tokens",
        include_bytes!("fixtures/gemini_max_tokens.sse"),
    ),
    (
        "malformed_function_call",
        include_bytes!("fixtures/gemini_malformed_function_call.sse"),
    ),
    (
        "error_chunk",
        include_bytes!("fixtures/gemini_error_chunk.sse"),
    ),
    (
        "error_event",
        include_bytes!("fixtures/gemini_error_event.sse"),
    ),
    (
        "safety_blocked",
        include_bytes!("fixtures/gemini_safety_blocked.sse"),
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
    let mut stream = Gemini.stream(MODEL, ID);
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

fn json_of(event: &StreamEvent) -> Value {
    serde_json::to_value(event).expect("serialises")
}

#[test]
fn text_chunks_become_one_text_block_with_the_last_usage() {
    insta::assert_json_snapshot!("text", translate([fixture("text")]));
}

#[test]
fn usage_sent_only_on_the_final_chunk_reaches_message_delta() {
    insta::assert_json_snapshot!(
        "usage_final_chunk",
        translate([fixture("usage_final_chunk")])
    );
}

#[test]
fn a_signed_function_call_after_thoughts_becomes_a_tool_use_with_one_input_delta() {
    insta::assert_json_snapshot!("tool_call", translate([fixture("tool_call")]));
}

#[test]
fn parallel_function_calls_become_one_tool_use_block_each() {
    insta::assert_json_snapshot!("parallel_calls", translate([fixture("parallel_calls")]));
}

#[test]
fn thought_parts_form_a_thinking_block_closed_before_the_text() {
    insta::assert_json_snapshot!("thinking", translate([fixture("thinking")]));
}

#[test]
fn a_text_part_signature_signs_the_thinking_block_before_the_text() {
    insta::assert_json_snapshot!(
        "thinking_signature",
        translate([fixture("thinking_signature")])
    );
}

#[test]
fn max_tokens_ends_with_max_tokens_after_the_partial_text() {
    insta::assert_json_snapshot!("max_tokens", translate([fixture("max_tokens")]));
}

#[test]
fn a_malformed_function_call_with_no_content_ends_the_turn() {
    insta::assert_json_snapshot!(
        "malformed_function_call",
        translate([fixture("malformed_function_call")])
    );
}

#[test]
fn a_bare_json_error_after_the_data_events_ends_with_an_overloaded_error() {
    insta::assert_json_snapshot!("error_chunk", translate([fixture("error_chunk")]));
}

#[test]
fn an_error_event_before_any_content_is_a_well_formed_error() {
    insta::assert_json_snapshot!("error_event", translate([fixture("error_event")]));
}

#[test]
fn a_blocked_prompt_is_an_empty_refusal() {
    insta::assert_json_snapshot!("safety_blocked", translate([fixture("safety_blocked")]));
}

#[test]
fn a_body_ending_before_any_finish_reason_ends_with_an_api_error() {
    let text = fixture("text");
    let first_event_end = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("two events")
        + 4;
    let events = translate([&text[..first_event_end]]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "error"
        ]
    );
    assert_eq!(json_of(&events[4])["error"]["type"], "api_error");
}

#[test]
fn a_broken_connection_ends_with_an_api_error_carrying_its_message() {
    let mut stream = Gemini.stream(MODEL, ID);
    let mut out = Vec::new();
    stream.push(fixture("tool_call"), &mut out);
    assert!(stream.started());
    stream.finish(Some("connection reset"), &mut out);
    assert_eq!(
        json_of(out.last().expect("events"))["error"],
        json!({"type": "api_error", "message": "connection reset"})
    );
    assert!(!names(&out).contains(&"message_stop"));
}

#[test]
fn a_last_event_without_its_blank_line_still_finishes_the_message() {
    let text = fixture("text");
    assert_eq!(translate([&text[..text.len() - 4]]), translate([text]));
    let lf_only = String::from_utf8_lossy(text).replace("\r\n", "\n");
    assert_eq!(translate([lf_only.as_bytes()]), translate([text]));
}

#[test]
fn a_rate_limit_error_event_mid_stream_becomes_a_rate_limit_error() {
    let thinking = fixture("thinking");
    let cut = thinking
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an event")
        + 4;
    let mut body = thinking[..cut].to_vec();
    body.extend_from_slice(
        b"data: {\"error\": {\"code\": 429, \"message\": \"Resource has been exhausted (e.g. check quota).\", \"status\": \"RESOURCE_EXHAUSTED\"}}\r\n\r\n",
    );
    let events = translate([body.as_slice()]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "error"
        ]
    );
    assert_eq!(
        json_of(&events[4])["error"],
        json!({"type": "rate_limit_error", "message": "Resource has been exhausted (e.g. check quota)."})
    );
}

#[test]
fn junk_events_and_unknown_fields_are_ignored() {
    let mut body =
        b": keep-alive\r\n\r\ndata: not json\r\n\r\ndata: {\"newField\": {\"a\": 1}}\r\n\r\n"
            .to_vec();
    body.extend_from_slice(fixture("parallel_calls"));
    let events = translate([body.as_slice()]);
    assert_eq!(events, translate([fixture("parallel_calls")]));
}

#[test]
fn a_byte_order_mark_and_stray_non_error_json_change_nothing() {
    let mut body = "\u{feff}".as_bytes().to_vec();
    body.extend_from_slice(b"{\n  \"note\": 1\n}\nnot json either\n");
    body.extend_from_slice(fixture("text"));
    assert_eq!(translate([body.as_slice()]), translate([fixture("text")]));
}

#[test]
fn message_start_reports_the_prompt_size_of_the_first_chunk() {
    let events = translate([fixture("tool_call")]);
    assert_eq!(json_of(&events[0])["message"]["usage"]["input_tokens"], 52);
}

proptest! {
    #[test]
    fn events_do_not_depend_on_how_the_body_is_split(
        which in 0..FIXTURES.len(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16),
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
        assert_eq!(translate(body.chunks(1)), translate([*body]), "{name}");
    }
}

//! The OpenAI Chat Completions stream translator on real provider streams
//! (OpenAI, OpenRouter, DeepSeek; see `fixtures/SOURCES-openai.md`).

use dialects::anthropic::{ContentBlock, Delta, StopReason, StreamEvent};
use dialects::openai::OpenAiChat;
use dialects::Translator;
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "openai_text",
    "openai_tool_call",
    "openai_parallel_tool_calls",
    "openai_deepseek_reasoning_tool_call",
    "openrouter_reasoning",
    "openrouter_error",
    "openrouter_rate_limit_error",
];

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}.sse", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs `chunks` through a fresh stream translator, then ends the body normally.
fn translate<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<StreamEvent> {
    let mut stream = OpenAiChat.stream("claude-sonnet-4-5", "msg_01TEST");
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

fn stop_reason(events: &[StreamEvent]) -> Option<StopReason> {
    events.iter().find_map(|e| match e {
        StreamEvent::MessageDelta { delta, .. } => delta.stop_reason,
        _ => None,
    })
}

fn error_kind(events: &[StreamEvent]) -> Option<&str> {
    match events.last() {
        Some(StreamEvent::Error { error }) => Some(error.kind.as_str()),
        _ => None,
    }
}

#[test]
fn every_fixture_stream_translates_to_the_snapshotted_events() {
    for name in FIXTURES {
        let events = translate([fixture(name).as_slice()]);
        insta::assert_json_snapshot!(*name, events);
    }
}

#[test]
fn streams_end_with_the_mapped_stop_reason_or_error() {
    let end = |name: &str| {
        let events = translate([fixture(name).as_slice()]);
        (stop_reason(&events), error_kind(&events).map(str::to_owned))
    };
    assert_eq!(end("openai_text"), (Some(StopReason::EndTurn), None));
    assert_eq!(end("openai_tool_call"), (Some(StopReason::ToolUse), None));
    assert_eq!(
        end("openai_parallel_tool_calls"),
        (Some(StopReason::ToolUse), None)
    );
    assert_eq!(
        end("openai_deepseek_reasoning_tool_call"),
        (Some(StopReason::ToolUse), None)
    );
    assert_eq!(
        end("openrouter_reasoning"),
        (Some(StopReason::EndTurn), None)
    );
    assert_eq!(
        end("openrouter_error"),
        (None, Some(String::from("api_error")))
    );
    assert_eq!(
        end("openrouter_rate_limit_error"),
        (None, Some(String::from("rate_limit_error")))
    );
}

#[test]
fn the_usage_only_final_chunk_reaches_message_delta() {
    let events = translate([fixture("openai_text").as_slice()]);
    let Some(StreamEvent::MessageDelta { usage, .. }) = events.iter().rev().nth(1) else {
        panic!("message_delta before message_stop: {:?}", names(&events));
    };
    assert_eq!((usage.input_tokens, usage.output_tokens), (14, 47));
}

#[test]
fn deepseek_cached_prompt_tokens_are_cache_reads() {
    let events = translate([fixture("openai_deepseek_reasoning_tool_call").as_slice()]);
    let usage = events.iter().find_map(|e| match e {
        StreamEvent::MessageDelta { usage, .. } => Some(usage.clone()),
        _ => None,
    });
    let usage = usage.expect("a message_delta");
    assert_eq!(
        (
            usage.input_tokens,
            usage.cache_read_input_tokens,
            usage.output_tokens
        ),
        (118, 256, 61)
    );
}

/// The concatenated input JSON of every tool_use block, by block index.
fn tool_inputs(events: &[StreamEvent]) -> Vec<(usize, String, String)> {
    let mut tools: Vec<(usize, String, String)> = Vec::new();
    for event in events {
        match event {
            StreamEvent::ContentBlockStart {
                index,
                content_block: ContentBlock::ToolUse { name, .. },
            } => {
                tools.push((*index, name.clone(), String::new()));
            }
            StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::InputJsonDelta { partial_json },
            } => {
                let tool = tools
                    .iter_mut()
                    .find(|t| t.0 == *index)
                    .expect("delta for an open tool block");
                tool.2.push_str(partial_json);
            }
            _ => {}
        }
    }
    tools
}

#[test]
fn parallel_tool_calls_become_consecutive_blocks_with_whole_arguments() {
    let events = translate([fixture("openai_parallel_tool_calls").as_slice()]);
    assert_eq!(
        tool_inputs(&events),
        [
            (
                0,
                String::from("GetWeatherArgs"),
                String::from(r#"{"city": "Edinburgh", "country": "UK", "units": "c"}"#)
            ),
            (
                1,
                String::from("get_stock_price"),
                String::from(r#"{"ticker": "AAPL", "exchange": "NASDAQ"}"#)
            ),
        ]
    );
}

/// A chunk in the shape OpenAI sends, with the given delta.
fn chunk(delta: &str) -> String {
    format!(
        "data: {{\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n"
    )
}

const FINISH_TOOL_CALLS: &str =
    "data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";

#[test]
fn interleaved_tool_calls_are_buffered_until_their_turn() {
    let body = [
        chunk(r#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"Read","arguments":"{\"path\":"}}]}"#),
        chunk(r#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"Grep","arguments":"{\"pattern\":"}}]}"#),
        chunk(r#"{"tool_calls":[{"index":0,"function":{"arguments":"\"a.rs\"}"}}]}"#),
        chunk(r#"{"tool_calls":[{"index":1,"function":{"arguments":"\"TODO\"}"}}]}"#),
        FINISH_TOOL_CALLS.to_owned(),
    ]
    .concat();
    let events = translate([body.as_bytes()]);
    assert_eq!(
        tool_inputs(&events),
        [
            (0, String::from("Read"), String::from(r#"{"path":"a.rs"}"#)),
            (
                1,
                String::from("Grep"),
                String::from(r#"{"pattern":"TODO"}"#)
            ),
        ]
    );
    assert_eq!(stop_reason(&events), Some(StopReason::ToolUse));
}

#[test]
fn tool_calls_without_index_are_told_apart_by_id() {
    let body = [
        chunk(r#"{"tool_calls":[{"id":"call_a","type":"function","function":{"name":"Read","arguments":"{\"path\":\"a\"}"}}]}"#),
        chunk(r#"{"tool_calls":[{"id":"call_b","type":"function","function":{"name":"Read","arguments":"{\"path\":\"b\"}"}}]}"#),
        FINISH_TOOL_CALLS.to_owned(),
    ]
    .concat();
    let inputs: Vec<String> = tool_inputs(&translate([body.as_bytes()]))
        .into_iter()
        .map(|t| t.2)
        .collect();
    assert_eq!(inputs, [r#"{"path":"a"}"#, r#"{"path":"b"}"#]);
}

#[test]
fn a_body_that_ends_without_finish_reason_ends_with_an_api_error() {
    let whole = fixture("openai_text");
    let events = translate([&whole[..whole.len() / 2]]);
    assert_eq!(error_kind(&events), Some("api_error"));
    assert!(
        matches!(
            events.iter().rev().nth(1),
            Some(StreamEvent::ContentBlockStop { .. })
        ),
        "open block closed first"
    );
}

#[test]
fn a_body_that_ends_after_finish_reason_without_done_ends_normally() {
    let whole = String::from_utf8(fixture("openai_tool_call")).unwrap();
    let cut = whole.find("data: [DONE]").unwrap();
    let events = translate([&whole.as_bytes()[..cut]]);
    assert_eq!(stop_reason(&events), Some(StopReason::ToolUse));
    assert_eq!(names(&events).last(), Some(&"message_stop"));
}

#[test]
fn a_transport_error_after_finish_reason_still_ends_with_an_error() {
    let whole = String::from_utf8(fixture("openai_text")).unwrap();
    let cut = whole.find("data: [DONE]").unwrap();
    let mut stream = OpenAiChat.stream("m", "msg_1");
    let mut out = Vec::new();
    stream.push(&whole.as_bytes()[..cut], &mut out);
    stream.finish(Some("connection reset"), &mut out);
    let Some(StreamEvent::Error { error }) = out.last() else {
        panic!("expected an error event, got {:?}", names(&out));
    };
    assert_eq!(
        (error.kind.as_str(), error.message.as_str()),
        ("api_error", "connection reset")
    );
}

#[test]
fn message_start_waits_for_content_so_an_early_error_can_still_fail_over() {
    let mut stream = OpenAiChat.stream("m", "msg_1");
    let mut out = Vec::new();
    stream.push(b": OPENROUTER PROCESSING\n\n", &mut out);
    stream.push(
        chunk(r#"{"role":"assistant","content":""}"#).as_bytes(),
        &mut out,
    );
    assert!(!stream.started() && out.is_empty());
    stream.push(chunk(r#"{"content":"Hi"}"#).as_bytes(), &mut out);
    assert!(stream.started());
}

#[test]
fn chunks_separated_by_single_newlines_are_still_read() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\
                data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\
                data: [DONE]\n\n";
    let events = translate([body.as_bytes()]);
    let text: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ContentBlockDelta {
                delta: Delta::TextDelta { text },
                ..
            } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "Hello");
    assert_eq!(stop_reason(&events), Some(StopReason::EndTurn));
}

#[test]
fn unknown_payloads_and_anything_after_done_are_ignored() {
    let body = [
        "event: keepalive\ndata: not json\n\n".to_owned(),
        chunk(r#"{"content":"ok","future_field":{"x":[1,2]}}"#),
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n".to_owned(),
        chunk(r#"{"content":"late"}"#),
    ]
    .concat();
    let events = translate([body.as_bytes()]);
    assert_eq!(
        names(&events),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
}

#[test]
fn a_vllm_error_chunk_becomes_an_error_event() {
    let body = "data: {\"object\":\"error\",\"message\":\"CUDA out of memory\",\"type\":\"InternalServerError\",\"code\":500}\n\n";
    let events = translate([body.as_bytes()]);
    let Some(StreamEvent::Error { error }) = events.last() else {
        panic!("expected an error event, got {:?}", names(&events));
    };
    assert_eq!(
        (error.kind.as_str(), error.message.as_str()),
        ("api_error", "CUDA out of memory")
    );
}

/// Cut points (sorted, deduplicated) inside a body of `len` bytes.
fn split<'a>(body: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(body.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut pieces = Vec::new();
    let mut start = 0;
    for point in points {
        pieces.push(&body[start..point]);
        start = point;
    }
    pieces.push(&body[start..]);
    pieces
}

proptest! {
    #[test]
    fn any_chunking_of_a_fixture_gives_the_same_events(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40)) {
        for name in FIXTURES {
            let body = fixture(name);
            let whole = translate([body.as_slice()]);
            let pieces = translate(split(&body, &cuts));
            prop_assert_eq!(&whole, &pieces, "{}", name);
        }
    }
}

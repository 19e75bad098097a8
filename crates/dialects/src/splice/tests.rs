use crate::anthropic::{EventEmitter, StopReason};

use super::*;

/// A leg as a translator writes it: `message_start` with `input` tokens,
/// then whatever `body` emits.
fn leg(
    input: u64,
    body: impl FnOnce(&mut EventEmitter, &mut Vec<StreamEvent>),
) -> Vec<StreamEvent> {
    let mut emitter = EventEmitter::new("msg_leg", "m");
    emitter.usage_mut().input_tokens = input;
    let mut events = Vec::new();
    emitter.start(&mut events);
    body(&mut emitter, &mut events);
    events
}

fn finish(
    emitter: &mut EventEmitter,
    events: &mut Vec<StreamEvent>,
    output: u64,
    stop: StopReason,
) {
    emitter.usage_mut().output_tokens = output;
    emitter.finish(stop, events);
}

/// The client's text, and that its stream is one well-formed answer.
fn text_of(events: &[StreamEvent]) -> String {
    let starts = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::MessageStart { .. }))
        .count();
    assert_eq!(starts, 1, "{events:#?}");
    let mut open: Option<usize> = None;
    let mut next = 0;
    let mut text = String::new();
    for event in events {
        match event {
            StreamEvent::ContentBlockStart { index, .. } => {
                assert_eq!((open, *index), (None, next), "{events:#?}");
                open = Some(*index);
                next += 1;
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                assert_eq!(open, Some(*index), "{events:#?}");
                if let Delta::TextDelta { text: piece } = delta {
                    text.push_str(piece);
                }
            }
            StreamEvent::ContentBlockStop { index } => {
                assert_eq!(open, Some(*index), "{events:#?}");
                open = None;
            }
            _ => {}
        }
    }
    text
}

fn usage_of(events: &[StreamEvent]) -> Usage {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            StreamEvent::MessageDelta { usage, .. } => Some(usage.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn a_text_cut_mid_block_is_continued_as_one_answer_with_the_usage_of_both_legs() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let first = leg(10, |e, events| {
        e.text("Hello, wor", events);
        e.fail("overloaded_error", "Overloaded", events);
    });
    let cut = splice.push(&first, &mut out).expect("the leg broke");
    assert_eq!(cut.error.kind, "overloaded_error");
    assert_eq!(splice.prefill().unwrap(), "Hello, wor");
    splice.next_leg();
    let second = leg(14, |e, events| {
        e.text("ld!", events);
        finish(e, events, 2, StopReason::EndTurn);
    });
    assert!(splice.push(&second, &mut out).is_none());
    assert!(splice.is_over());
    assert_eq!(text_of(&out), "Hello, world!");
    let usage = usage_of(&out);
    // 10 bytes before the break: about 3 tokens.
    assert_eq!((usage.input_tokens, usage.output_tokens), (24, 5));
    assert!(matches!(out.last(), Some(StreamEvent::MessageStop)));
}

#[test]
fn whitespace_the_prefill_left_off_is_not_repeated() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let first = leg(1, |e, events| {
        e.text("Hello ", events);
        e.fail("api_error", "cut", events);
    });
    splice.push(&first, &mut out).unwrap();
    assert_eq!(
        crate::prefill::prefill_text(&splice.prefill().unwrap()),
        "Hello"
    );
    splice.next_leg();
    let second = leg(1, |e, events| {
        e.text(" ", events);
        e.text(" world", events);
        finish(e, events, 1, StopReason::EndTurn);
    });
    splice.push(&second, &mut out);
    assert_eq!(text_of(&out), "Hello  world");
}

#[test]
fn a_tool_call_is_held_until_whole_and_a_cut_one_is_made_again_whole() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let first = leg(1, |e, events| {
        e.text("Let me look.", events);
        e.tool_use_start("toolu_1", "Read", events);
        e.tool_input("{\"path\": \"no", events);
    });
    assert!(splice.push(&first, &mut out).is_none());
    assert!(splice.holding());
    assert!(
        !out.iter().any(|e| matches!(
            e,
            StreamEvent::ContentBlockStart {
                content_block: ContentBlock::ToolUse { .. },
                ..
            }
        )),
        "half a call went out: {out:#?}"
    );
    let cut = leg(0, |_, events| {
        events.push(StreamEvent::ContentBlockStop { index: 1 });
        events.push(StreamEvent::Error {
            error: ErrorBody {
                kind: "api_error".into(),
                message: "reset".into(),
            },
        });
    });
    splice.push(&cut[1..], &mut out).unwrap();
    assert_eq!(splice.prefill().unwrap(), "Let me look.");
    splice.next_leg();
    let second = leg(1, |e, events| {
        e.tool_use_start("toolu_2", "Read", events);
        e.tool_input("{\"path\": ", events);
        e.tool_input("\"notes.txt\"}", events);
        finish(e, events, 3, StopReason::ToolUse);
    });
    splice.push(&second, &mut out);
    assert_eq!(text_of(&out), "Let me look.");
    let calls: Vec<&StreamEvent> = out
        .iter()
        .filter(|e| {
            matches!(
                e,
                StreamEvent::ContentBlockStart {
                    content_block: ContentBlock::ToolUse { .. },
                    ..
                }
            )
        })
        .collect();
    assert_eq!(calls.len(), 1);
    let json: String = out
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ContentBlockDelta {
                delta: Delta::InputJsonDelta { partial_json },
                ..
            } => Some(partial_json.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(json, "{\"path\": \"notes.txt\"}");
}

#[test]
fn thinking_or_a_whole_tool_call_cannot_be_continued() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let thinking = leg(1, |e, events| {
        e.thinking("Let me think", events);
        e.fail("api_error", "cut", events);
    });
    splice.push(&thinking, &mut out).unwrap();
    assert_eq!(splice.prefill(), Err(Inexact::Thinking));

    let mut splice = Splice::new(true);
    let called = leg(1, |e, events| {
        e.tool_use_start("toolu_1", "Read", events);
        e.tool_input("{}", events);
        e.close_block(events);
        e.text("And", events);
        e.fail("api_error", "cut", events);
    });
    splice.push(&called, &mut out).unwrap();
    assert_eq!(splice.prefill(), Err(Inexact::ToolCall));
}

#[test]
fn an_answer_no_leg_continues_ends_with_its_open_block_closed_and_the_error() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let first = leg(1, |e, events| {
        e.text("Hel", events);
        e.fail("api_error", "the upstream stream broke", events);
    });
    let cut = splice.push(&first, &mut out).unwrap();
    splice.fail(cut.error, &mut out);
    let names: Vec<&str> = out.iter().map(StreamEvent::name).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "error"
        ]
    );
}

#[test]
fn a_continuations_thinking_is_left_out() {
    let mut splice = Splice::new(true);
    let mut out = Vec::new();
    let first = leg(1, |e, events| {
        e.text("One, ", events);
        e.fail("api_error", "cut", events);
    });
    splice.push(&first, &mut out).unwrap();
    splice.next_leg();
    let second = leg(1, |e, events| {
        e.thinking("hmm", events);
        e.text("two.", events);
        finish(e, events, 1, StopReason::EndTurn);
    });
    splice.push(&second, &mut out);
    assert_eq!(text_of(&out), "One, two.");
    assert!(!out.iter().any(|e| matches!(
        e,
        StreamEvent::ContentBlockDelta {
            delta: Delta::ThinkingDelta { .. },
            ..
        }
    )));
}

#[test]
fn without_holding_tool_calls_pass_as_they_come() {
    let mut splice = Splice::new(false);
    let mut out = Vec::new();
    let first = leg(1, |e, events| {
        e.tool_use_start("toolu_1", "Read", events);
        e.tool_input("{\"pa", events);
    });
    splice.push(&first, &mut out);
    assert!(!splice.holding());
    assert_eq!(out.len(), 3);
}

//! Anthropic Messages API bodies and streams.

use serde_json::{json, Value};

use super::{next_id, output_tokens, pieces, PROMPT_TOKENS};
use crate::reply::Reply;
use crate::sse::SseEvent;

/// The model the Anthropic helpers report.
pub const ANTHROPIC_MODEL: &str = "claude-sonnet-4-20250514";

impl Reply {
    /// 200 with a non-streaming Messages response whose only content block is `text`,
    /// `stop_reason: "end_turn"`.
    pub fn anthropic_message(text: &str) -> Reply {
        let body = json!({
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": start_usage(output_tokens(text)),
        });
        Reply::json(200, body)
    }

    /// 200 SSE stream of `text` as Anthropic sends it (see [`anthropic_stream_events`]).
    pub fn anthropic_stream(text: &str) -> Reply {
        Reply::sse(anthropic_stream_events(text))
    }

    /// 200 SSE stream whose first and only event is an Anthropic `error` event, as
    /// sent when the API fails after the status line (e.g. `overloaded_error`,
    /// `Overloaded`).
    pub fn anthropic_stream_error(error_type: &str, message: &str) -> Reply {
        let error = json!({
            "type": "error",
            "error": {"type": error_type, "message": message},
        });
        Reply::sse([SseEvent::json("error", &error)])
    }
}

/// The events of a streamed Messages response for `text`, in Anthropic's order:
/// `message_start`, `content_block_start`, `ping`, one `content_block_delta`
/// (`text_delta`) per piece of text, `content_block_stop`, `message_delta`
/// (`stop_reason: "end_turn"` and usage), `message_stop`. So there are 6 events plus
/// one per piece: "Hello brave world" gives 9.
pub fn anthropic_stream_events(text: &str) -> Vec<SseEvent> {
    let message = json!({
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [],
        "stop_reason": null,
        "stop_sequence": null,
        "usage": start_usage(1),
    });
    let mut events = vec![
        SseEvent::json(
            "message_start",
            &json!({"type": "message_start", "message": message}),
        ),
        SseEvent::json(
            "content_block_start",
            &json!({
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }),
        ),
        SseEvent::json("ping", &json!({"type": "ping"})),
    ];
    events.extend(pieces(text).into_iter().map(|piece| {
        SseEvent::json(
            "content_block_delta",
            &json!({
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            }),
        )
    }));
    events.extend([
        SseEvent::json(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        SseEvent::json(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                "usage": {"output_tokens": output_tokens(text)},
            }),
        ),
        SseEvent::json("message_stop", &json!({"type": "message_stop"})),
    ]);
    events
}

fn message_id() -> String {
    format!("msg_01FAKE{:018}", next_id())
}

fn start_usage(output_tokens: u64) -> Value {
    json!({
        "input_tokens": PROMPT_TOKENS,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    })
}

/// The events of a streamed Messages response that says `text` (no text
/// block when empty), then calls tool `name` (id `id`) with arguments sent
/// as `arguments`, one `input_json_delta` each: `message_start`, the text
/// block (start, one delta per piece, stop), the `tool_use` block (start,
/// one delta per argument piece, stop), `message_delta`
/// (`stop_reason: "tool_use"`), `message_stop`.
pub fn anthropic_tool_stream_events(
    text: &str,
    id: &str,
    name: &str,
    arguments: &[&str],
) -> Vec<SseEvent> {
    let message = json!({
        "id": message_id(), "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL,
        "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage(1),
    });
    let mut events = vec![SseEvent::json(
        "message_start",
        &json!({"type": "message_start", "message": message}),
    )];
    let mut index = 0;
    let block = |index: usize, block: Value| {
        SseEvent::json(
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        )
    };
    let delta = |index: usize, delta: Value| {
        SseEvent::json(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    };
    let stop = |index: usize| {
        SseEvent::json(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        )
    };
    if !text.is_empty() {
        events.push(block(index, json!({"type": "text", "text": ""})));
        events.extend(
            pieces(text)
                .into_iter()
                .map(|piece| delta(index, json!({"type": "text_delta", "text": piece}))),
        );
        events.push(stop(index));
        index += 1;
    }
    events.push(block(
        index,
        json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
    ));
    events.extend(arguments.iter().map(|piece| {
        delta(
            index,
            json!({"type": "input_json_delta", "partial_json": piece}),
        )
    }));
    events.push(stop(index));
    events.push(SseEvent::json(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": output_tokens(text) + arguments.len() as u64},
        }),
    ));
    events.push(SseEvent::json(
        "message_stop",
        &json!({"type": "message_stop"}),
    ));
    events
}

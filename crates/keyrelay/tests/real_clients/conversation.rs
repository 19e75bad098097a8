//! Fake upstream turns for a one-tool conversation, in each provider's own
//! streaming format: first a call to the `Read` tool, then, once the tool
//! result is in the conversation, a final answer that quotes it.

use serde_json::{json, Value};
use testkit::{Recorded, Reply, SseEvent};

/// The file the model asks Claude Code to read, and what it holds.
pub const SECRET: &str = "tangerine-42";

/// The last tool result's text in an Anthropic request, if any.
pub fn anthropic_tool_result(request: &Value) -> Option<String> {
    let last = request["messages"].as_array()?.last()?;
    last["content"].as_array()?.iter().find_map(|block| {
        (block["type"] == "tool_result").then(|| match &block["content"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    })
}

fn offers_read(request: &Value) -> bool {
    request["tools"].as_array().is_some_and(|tools| tools.iter().any(|t| t["name"] == "Read"))
}

/// Anthropic Messages stream: tool call or final text.
pub fn anthropic_turn(request: &Recorded, file: &str) -> Reply {
    let body = request.json().unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
    let text = match anthropic_tool_result(&body) {
        Some(result) => format!("The file says: {}", result.lines().find(|l| l.contains(SECRET)).unwrap_or(&result)),
        None if offers_read(&body) => return anthropic_tool_call(file, stream),
        None => "ok".to_owned(),
    };
    if stream {
        Reply::anthropic_stream(&text)
    } else {
        Reply::anthropic_message(&text)
    }
}

fn anthropic_tool_call(file: &str, stream: bool) -> Reply {
    let input = json!({"file_path": file});
    if !stream {
        return Reply::json(
            200,
            json!({"id": "msg_tool1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                   "content": [{"type": "tool_use", "id": "toolu_01", "name": "Read", "input": input}],
                   "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 5}}),
        );
    }
    let events = vec![
        SseEvent::json("message_start", &json!({"type": "message_start", "message": {"id": "msg_tool1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}})),
        SseEvent::json("content_block_start", &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {}}})),
        SseEvent::json("content_block_delta", &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": input.to_string()}})),
        SseEvent::json("content_block_stop", &json!({"type": "content_block_stop", "index": 0})),
        SseEvent::json("message_delta", &json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 12}})),
        SseEvent::json("message_stop", &json!({"type": "message_stop"})),
    ];
    Reply::sse(events)
}

//! OpenAI Chat Completions bodies and streams.

use serde_json::{json, Value};

use super::{next_id, output_tokens, pieces, CREATED, PROMPT_TOKENS};
use crate::reply::Reply;
use crate::sse::SseEvent;

/// The model the OpenAI helpers report.
pub const OPENAI_MODEL: &str = "gpt-4o-mini-2024-07-18";

impl Reply {
    /// 200 with a non-streaming `chat.completion` whose one choice says `text`,
    /// `finish_reason: "stop"`.
    pub fn openai_chat(text: &str) -> Reply {
        let completion = output_tokens(text);
        let body = json!({
            "id": completion_id(),
            "object": "chat.completion",
            "created": CREATED,
            "model": OPENAI_MODEL,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": completion,
                "total_tokens": PROMPT_TOKENS + completion,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 0,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fake",
        });
        Reply::json(200, body)
    }

    /// 200 SSE stream of `text` as Chat Completions sends it (see
    /// [`openai_chat_stream_events`]).
    pub fn openai_chat_stream(text: &str) -> Reply {
        Reply::sse(openai_chat_stream_events(text))
    }
}

/// The data-only events of a streamed `chat.completion.chunk` response for `text`:
/// a first chunk with the role, one chunk per piece of text, a last chunk with
/// `finish_reason: "stop"`, then `data: [DONE]`. So 3 events plus one per piece.
/// (No usage chunk: that needs `stream_options.include_usage`.)
pub fn openai_chat_stream_events(text: &str) -> Vec<SseEvent> {
    let id = completion_id();
    let chunk = |delta: Value, finish_reason: Value| {
        let chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": OPENAI_MODEL,
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "delta": delta,
                "logprobs": null,
                "finish_reason": finish_reason,
            }],
        });
        SseEvent::data(chunk.to_string())
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": "", "refusal": null}),
        Value::Null,
    )];
    events.extend(
        pieces(text)
            .into_iter()
            .map(|piece| chunk(json!({"content": piece}), Value::Null)),
    );
    events.push(chunk(json!({}), json!("stop")));
    events.push(SseEvent::data("[DONE]"));
    events
}

fn completion_id() -> String {
    format!("chatcmpl-FAKE{:020}", next_id())
}

/// The data-only events of a streamed `chat.completion.chunk` response
/// that says `text`, then calls function `name` (id `id`) with arguments
/// sent as `arguments`: the role chunk, one chunk per piece of text, the
/// call's first piece (id, name, empty arguments), one chunk per argument
/// piece, a chunk with `finish_reason: "tool_calls"`, then `data: [DONE]`.
pub fn openai_chat_tool_stream_events(
    text: &str,
    id: &str,
    name: &str,
    arguments: &[&str],
) -> Vec<SseEvent> {
    let completion = completion_id();
    let chunk = |delta: Value, finish_reason: Value| {
        SseEvent::data(
            json!({
                "id": completion, "object": "chat.completion.chunk", "created": CREATED,
                "model": OPENAI_MODEL,
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
            })
            .to_string(),
        )
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    if !text.is_empty() {
        events.extend(
            pieces(text)
                .into_iter()
                .map(|piece| chunk(json!({"content": piece}), Value::Null)),
        );
    }
    events.push(chunk(
        json!({"tool_calls": [{"index": 0, "id": id, "type": "function",
            "function": {"name": name, "arguments": ""}}]}),
        Value::Null,
    ));
    events.extend(arguments.iter().map(|piece| {
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            Value::Null,
        )
    }));
    events.push(chunk(json!({}), json!("tool_calls")));
    events.push(SseEvent::data("[DONE]"));
    events
}

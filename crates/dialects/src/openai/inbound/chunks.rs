//! Hub stream events as `chat.completion.chunk` server-sent events, the way
//! OpenAI streams them:
//!
//! 1. a role chunk (`delta: {"role":"assistant","content":""}`) first;
//! 2. text as `delta.content`, thinking as `delta.reasoning_content`;
//! 3. each tool_use block as `delta.tool_calls[]` with its own `index`
//!    (0, 1, … in order of the blocks): the first piece carries `id`,
//!    `type` and `function.name` with empty arguments, later pieces only
//!    `function.arguments`;
//! 4. a chunk with an empty delta and the `finish_reason`;
//! 5. with `stream_options.include_usage`, a chunk with `choices: []` and
//!    the usage (and `"usage": null` on every earlier chunk);
//! 6. `data: [DONE]`.
//!
//! An `error` event becomes `data: {"error": {…}}` in OpenAI's error shape
//! and ends the stream without `[DONE]` (the OpenAI SDKs raise on it).
//! Pings are SSE comments, which every client skips.

use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};

use super::response::{finish_reason, usage, ChatMeta};
use crate::anthropic::{ContentBlock, Delta, StopReason, StreamEvent, Usage};
use crate::translate::StreamEncode;

/// The state of one Chat Completions stream.
#[derive(Debug)]
pub struct ChatChunks {
    meta: ChatMeta,
    include_usage: bool,
    role_sent: bool,
    /// Hub block index → tool call index, for the blocks that are tool calls.
    tools: Vec<(usize, usize)>,
    usage: Usage,
    finish_sent: bool,
    ended: bool,
}

impl ChatChunks {
    pub fn new(meta: ChatMeta, include_usage: bool) -> Self {
        ChatChunks {
            meta,
            include_usage,
            role_sent: false,
            tools: Vec::new(),
            usage: Usage::default(),
            finish_sent: false,
            ended: false,
        }
    }

    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        match event {
            StreamEvent::MessageStart { message } => {
                merge_usage(&mut self.usage, &message.usage);
                self.role(out);
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                ContentBlock::ToolUse { id, name, .. } => {
                    let call = self.tools.len();
                    self.tools.push((*index, call));
                    let piece = json!({"index": call, "id": id, "type": "function",
                        "function": {"name": name, "arguments": ""}});
                    self.delta(json!({ "tool_calls": [piece] }), out);
                }
                ContentBlock::Text { text, .. } if !text.is_empty() => {
                    self.delta(json!({ "content": text }), out);
                }
                _ => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                Delta::TextDelta { text } if !text.is_empty() => {
                    self.delta(json!({ "content": text }), out);
                }
                Delta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                    self.delta(json!({ "reasoning_content": thinking }), out);
                }
                Delta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    if let Some(&(_, call)) = self.tools.iter().find(|(block, _)| block == index) {
                        let piece = json!({"index": call, "function": {"arguments": partial_json}});
                        self.delta(json!({ "tool_calls": [piece] }), out);
                    }
                }
                _ => {}
            },
            StreamEvent::ContentBlockStop { .. } => {}
            StreamEvent::MessageDelta { delta, usage } => {
                merge_usage(&mut self.usage, usage);
                self.finish(delta.stop_reason, out);
            }
            StreamEvent::MessageStop => {
                self.finish(Some(StopReason::EndTurn), out);
                if self.include_usage {
                    let chunk = self.chunk(Value::Array(Vec::new()), usage(&self.usage));
                    data(&chunk, out);
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
                self.ended = true;
            }
            StreamEvent::Ping => out.extend_from_slice(&self.ping()),
            StreamEvent::Error { error } => {
                // The hub's error type names, as keyrelay's own OpenAI-shape errors use them.
                let body = json!({"error": {"message": error.message, "type": error.kind,
                    "param": null, "code": null}});
                data(&body, out);
                self.ended = true;
            }
        }
    }

    fn role(&mut self, out: &mut BytesMut) {
        if !self.role_sent {
            self.role_sent = true;
            self.delta(json!({"role": "assistant", "content": ""}), out);
        }
    }

    /// The finish chunk, once (`stop` is a fallback for a stream that ends
    /// without saying why).
    fn finish(&mut self, stop: Option<StopReason>, out: &mut BytesMut) {
        if self.finish_sent {
            return;
        }
        self.role(out);
        self.finish_sent = true;
        let choice = json!([{"index": 0, "delta": {}, "logprobs": null,
            "finish_reason": finish_reason(stop)}]);
        let chunk = self.chunk(choice, Value::Null);
        data(&chunk, out);
    }

    fn delta(&mut self, delta: Value, out: &mut BytesMut) {
        self.role(out);
        let choice = json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": null}]);
        let chunk = self.chunk(choice, Value::Null);
        data(&chunk, out);
    }

    fn chunk(&self, choices: Value, usage: Value) -> Value {
        let mut chunk = json!({
            "id": self.meta.id,
            "object": "chat.completion.chunk",
            "created": self.meta.created,
            "model": self.meta.model,
            "choices": choices,
        });
        if self.include_usage {
            chunk["usage"] = usage;
        }
        chunk
    }
}

impl StreamEncode for ChatChunks {
    fn encode(&mut self, events: &[StreamEvent], out: &mut BytesMut) {
        for event in events {
            if self.ended {
                return;
            }
            self.event(event, out);
        }
    }

    fn ping(&self) -> Bytes {
        Bytes::from_static(b": ping\n\n")
    }
}

fn data(value: &Value, out: &mut BytesMut) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(value.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

/// Later counts win; a field a `message_delta` leaves out (0) keeps the
/// count `message_start` gave.
pub(crate) fn merge_usage(into: &mut Usage, from: &Usage) {
    let keep = |old: &mut u64, new: u64| {
        if new > 0 {
            *old = new;
        }
    };
    keep(&mut into.input_tokens, from.input_tokens);
    keep(&mut into.output_tokens, from.output_tokens);
    keep(
        &mut into.cache_creation_input_tokens,
        from.cache_creation_input_tokens,
    );
    keep(
        &mut into.cache_read_input_tokens,
        from.cache_read_input_tokens,
    );
}

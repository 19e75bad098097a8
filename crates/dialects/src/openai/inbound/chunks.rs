//! Hub stream events as `chat.completion.chunk` server-sent events, the way
//! OpenAI streams them:
//!
//! 1. a role chunk (`delta: {"role":"assistant","content":""}`) first;
//! 2. text as `delta.content`, thinking as `delta.reasoning_content`;
//! 3. each tool_use block as `delta.tool_calls[]` with its own `index`
//!    (0, 1, … in order of the blocks): the first piece carries `id`,
//!    `type` and `function.name` with empty arguments, later pieces only
//!    `function.arguments`. A call whose block stops without argument text
//!    (Anthropic streams one empty `input_json_delta` for a call without
//!    arguments, or none) gets a last piece with `"{}"`, as OpenAI sends
//!    it — or with the `input` its start carried, for servers that put the
//!    arguments there: clients join the pieces and parse them as JSON, and
//!    `""` is not JSON;
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
    /// The blocks that are tool calls, in order (a call's index is its position).
    tools: Vec<ToolCall>,
    usage: Usage,
    finish_sent: bool,
    ended: bool,
}

/// A tool_use block streamed as a tool call.
#[derive(Debug)]
struct ToolCall {
    /// The hub block index.
    block: usize,
    /// The block's `input` when it started: Anthropic's is always `{}`, but
    /// a provider that sends the arguments there instead of in deltas is not
    /// lost.
    input: Value,
    /// Argument text other than whitespace was sent.
    sent: bool,
    /// The block stopped.
    done: bool,
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
                ContentBlock::ToolUse { id, name, input } => {
                    let call = self.tools.len();
                    self.tools.push(ToolCall {
                        block: *index,
                        input: input.clone(),
                        sent: false,
                        done: false,
                    });
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
                    let open = |t: &ToolCall| t.block == *index && !t.done;
                    if let Some(call) = self.tools.iter().position(open) {
                        self.tools[call].sent |= !partial_json.trim().is_empty();
                        self.arguments(call, partial_json, out);
                    }
                }
                _ => {}
            },
            StreamEvent::ContentBlockStop { index } => {
                let open = |t: &ToolCall| t.block == *index && !t.done;
                if let Some(call) = self.tools.iter().position(open) {
                    self.close_call(call, out);
                }
            }
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

    /// A piece of call `call`'s arguments.
    fn arguments(&mut self, call: usize, text: &str, out: &mut BytesMut) {
        let piece = json!({"index": call, "function": {"arguments": text}});
        self.delta(json!({ "tool_calls": [piece] }), out);
    }

    /// Call `call` is complete: if no arguments were sent, its start's
    /// `input` when that holds any, else `{}`.
    fn close_call(&mut self, call: usize, out: &mut BytesMut) {
        let tool = &mut self.tools[call];
        if std::mem::replace(&mut tool.done, true) || tool.sent {
            return;
        }
        let arguments = match &tool.input {
            Value::Object(fields) if !fields.is_empty() => tool.input.to_string(),
            _ => String::from("{}"),
        };
        self.arguments(call, &arguments, out);
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
        // A call whose block the provider never stopped is complete now.
        for call in 0..self.tools.len() {
            self.close_call(call, out);
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

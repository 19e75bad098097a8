//! Hub stream events as the Responses API's server-sent events, in the order
//! OpenAI sends them (each `event: TYPE` with a `sequence_number` counting
//! from 0):
//!
//! 1. `response.created`, `response.in_progress` (the response so far:
//!    `status: "in_progress"`, no output, `usage: null`);
//! 2. per thinking block, a `reasoning` item: `response.output_item.added`,
//!    and when summaries were asked for `response.reasoning_summary_part.added`,
//!    `response.reasoning_summary_text.delta`s, `…_text.done`, `…_part.done`;
//!    then `response.output_item.done`;
//! 3. per text block, a `message` item: `output_item.added`,
//!    `response.content_part.added`, `response.output_text.delta`s,
//!    `…output_text.done`, `…content_part.done`, `output_item.done`;
//! 4. per tool_use block, a `function_call` item: `output_item.added` (empty
//!    arguments), `response.function_call_arguments.delta`s,
//!    `…arguments.done`, `output_item.done` — or, for a custom tool, a
//!    `custom_tool_call` with `response.custom_tool_call_input.delta` and
//!    `.done` (its input is known only once the call's JSON is whole);
//! 5. `response.completed` (`response.incomplete` at the token limit) with
//!    the whole response, usage included.
//!
//! Every item event carries `output_index` and `item_id`, text events
//! `content_index`, summary events `summary_index`. An `error` event from
//! the hub closes open items as incomplete and ends the stream with an
//! `error` event and `response.failed` (whose `response.error` has the
//! code and message). Pings are SSE comments, which every client skips.

use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};

use super::output::{
    arguments_or_empty, custom_input, message_item, output_text, status_of, usage, ResponsesMeta,
};
use crate::anthropic::{ContentBlock, Delta, ErrorBody, StopReason, StreamEvent, Usage};
use crate::openai::inbound::merge_usage;
use crate::translate::StreamEncode;

/// The state of one Responses stream.
#[derive(Debug)]
pub struct ResponsesEvents {
    meta: ResponsesMeta,
    sequence: u64,
    started: bool,
    ended: bool,
    /// Finished output items, in order.
    output: Vec<Value>,
    open: Option<OpenItem>,
    usage: Usage,
    stop: Option<StopReason>,
    reasoning_bytes: usize,
}

/// The output item being streamed.
#[derive(Debug)]
struct OpenItem {
    id: String,
    kind: OpenKind,
}

#[derive(Debug)]
enum OpenKind {
    Reasoning {
        text: String,
        part_open: bool,
        /// `output_item.added` sent. A thinking block that only carries a
        /// signature (no text) never becomes an item.
        announced: bool,
    },
    Message {
        text: String,
    },
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
}

impl ResponsesEvents {
    pub fn new(meta: ResponsesMeta) -> Self {
        ResponsesEvents {
            meta,
            sequence: 0,
            started: false,
            ended: false,
            output: Vec::new(),
            open: None,
            usage: Usage::default(),
            stop: None,
            reasoning_bytes: 0,
        }
    }

    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        match event {
            StreamEvent::MessageStart { message } => {
                merge_usage(&mut self.usage, &message.usage);
                self.start(out);
            }
            StreamEvent::ContentBlockStart { content_block, .. } => {
                self.start(out);
                self.close(out, "completed");
                self.open(content_block, out);
            }
            StreamEvent::ContentBlockDelta { delta, .. } => self.delta(delta, out),
            StreamEvent::ContentBlockStop { .. } => self.close(out, "completed"),
            StreamEvent::MessageDelta { delta, usage } => {
                merge_usage(&mut self.usage, usage);
                self.stop = delta.stop_reason.or(self.stop);
            }
            StreamEvent::MessageStop => self.complete(out),
            StreamEvent::Ping => out.extend_from_slice(&self.ping()),
            StreamEvent::Error { error } => self.fail(error, out),
        }
    }

    fn start(&mut self, out: &mut BytesMut) {
        if self.started {
            return;
        }
        self.started = true;
        let response = self.meta.envelope("in_progress", Vec::new(), Value::Null);
        self.emit("response.created", json!({ "response": response }), out);
        let response = self.meta.envelope("in_progress", Vec::new(), Value::Null);
        self.emit("response.in_progress", json!({ "response": response }), out);
    }

    fn open(&mut self, block: &ContentBlock, out: &mut BytesMut) {
        let index = self.output.len();
        let (id, mut kind, item) = match block {
            ContentBlock::Thinking { thinking, .. } if thinking.is_empty() => {
                // Announced with its first text, if any comes.
                let id = self.meta.item_id("rs", index);
                let kind = OpenKind::Reasoning {
                    text: String::new(),
                    part_open: false,
                    announced: false,
                };
                self.open = Some(OpenItem { id, kind });
                return;
            }
            ContentBlock::Thinking { .. } | ContentBlock::RedactedThinking { .. } => {
                let id = self.meta.item_id("rs", index);
                let item = self.meta.reasoning_item(&id, "");
                let kind = OpenKind::Reasoning {
                    text: String::new(),
                    part_open: false,
                    announced: true,
                };
                (id, kind, item)
            }
            ContentBlock::Text { text, .. } => {
                let id = self.meta.item_id("msg", index);
                let mut item = message_item(&id, "", "in_progress");
                item["content"] = json!([]);
                (id, OpenKind::Message { text: text.clone() }, item)
            }
            ContentBlock::ToolUse {
                id: call_id, name, ..
            } => {
                let id = self.meta.item_id("fc", index);
                let item = self.meta.call_item(&id, call_id, name, "", "in_progress");
                let kind = OpenKind::Call {
                    call_id: call_id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                };
                (id, kind, item)
            }
            _ => return,
        };
        let added = json!({"output_index": index, "item": item});
        self.emit("response.output_item.added", added, out);
        let mut first = String::new();
        if let OpenKind::Message { text } = &mut kind {
            first = std::mem::take(text);
            let part = json!({"item_id": id, "output_index": index, "content_index": 0,
                "part": output_text("")});
            self.emit("response.content_part.added", part, out);
        }
        self.open = Some(OpenItem { id, kind });
        // A block that starts with content (Anthropic's start empty, but the hub allows it).
        match block {
            ContentBlock::Text { .. } => self.text_delta(&first, out),
            ContentBlock::Thinking { thinking, .. } => self.thinking_delta(thinking, out),
            _ => {}
        }
    }

    fn delta(&mut self, delta: &Delta, out: &mut BytesMut) {
        match delta {
            Delta::TextDelta { text } => self.text_delta(text, out),
            Delta::ThinkingDelta { thinking } => self.thinking_delta(thinking, out),
            Delta::InputJsonDelta { partial_json } => self.arguments_delta(partial_json, out),
            Delta::SignatureDelta { .. } => {}
        }
    }

    fn text_delta(&mut self, delta: &str, out: &mut BytesMut) {
        let index = self.output.len();
        let Some(OpenItem {
            id,
            kind: OpenKind::Message { text },
        }) = self.open.as_mut()
        else {
            return;
        };
        if delta.is_empty() {
            return;
        }
        text.push_str(delta);
        let data = json!({"item_id": id, "output_index": index, "content_index": 0,
            "delta": delta, "logprobs": []});
        self.emit("response.output_text.delta", data, out);
    }

    fn thinking_delta(&mut self, delta: &str, out: &mut BytesMut) {
        if delta.is_empty() {
            return;
        }
        let index = self.output.len();
        let summaries = self.meta.echo.summaries;
        let announce = match self.open.as_mut() {
            Some(OpenItem {
                id,
                kind: OpenKind::Reasoning { announced, .. },
            }) => (!std::mem::replace(announced, true)).then(|| id.clone()),
            _ => return,
        };
        if let Some(id) = announce {
            let item = self.meta.reasoning_item(&id, "");
            let added = json!({"output_index": index, "item": item});
            self.emit("response.output_item.added", added, out);
        }
        let Some(OpenItem {
            id,
            kind: OpenKind::Reasoning {
                text, part_open, ..
            },
        }) = self.open.as_mut()
        else {
            return;
        };
        text.push_str(delta);
        self.reasoning_bytes += delta.len();
        if !summaries {
            return;
        }
        let (id, opening) = (id.clone(), !*part_open);
        *part_open = true;
        if opening {
            let part = json!({"item_id": id, "output_index": index, "summary_index": 0,
                "part": {"type": "summary_text", "text": ""}});
            self.emit("response.reasoning_summary_part.added", part, out);
        }
        let data =
            json!({"item_id": id, "output_index": index, "summary_index": 0, "delta": delta});
        self.emit("response.reasoning_summary_text.delta", data, out);
    }

    fn arguments_delta(&mut self, delta: &str, out: &mut BytesMut) {
        let index = self.output.len();
        let Some(OpenItem {
            id,
            kind: OpenKind::Call {
                name, arguments, ..
            },
        }) = self.open.as_mut()
        else {
            return;
        };
        if delta.is_empty() {
            return;
        }
        arguments.push_str(delta);
        if self.meta.is_custom(name) {
            // A custom tool's input is the string inside the JSON: sent whole at the end.
            return;
        }
        let data = json!({"item_id": id, "output_index": index, "delta": delta});
        self.emit("response.function_call_arguments.delta", data, out);
    }

    /// Finishes the open item, if any, as `status`.
    fn close(&mut self, out: &mut BytesMut, status: &str) {
        let Some(OpenItem { id, kind }) = self.open.take() else {
            return;
        };
        let index = self.output.len();
        let at = |data: Value| {
            let mut data = data;
            data["item_id"] = json!(id);
            data["output_index"] = json!(index);
            data
        };
        let item = match kind {
            // Never announced: nothing to close.
            OpenKind::Reasoning {
                announced: false, ..
            } => return,
            OpenKind::Reasoning {
                text, part_open, ..
            } => {
                if part_open {
                    let done = at(json!({"summary_index": 0, "text": text}));
                    self.emit("response.reasoning_summary_text.done", done, out);
                    let part = at(json!({"summary_index": 0,
                        "part": {"type": "summary_text", "text": text}}));
                    self.emit("response.reasoning_summary_part.done", part, out);
                }
                self.meta.reasoning_item(&id, &text)
            }
            OpenKind::Message { text } => {
                let done = at(json!({"content_index": 0, "text": text, "logprobs": []}));
                self.emit("response.output_text.done", done, out);
                let part = at(json!({"content_index": 0, "part": output_text(&text)}));
                self.emit("response.content_part.done", part, out);
                message_item(&id, &text, status)
            }
            OpenKind::Call {
                call_id,
                name,
                arguments,
            } => {
                if self.meta.is_custom(&name) {
                    let input = custom_input(&arguments);
                    let delta = at(json!({ "delta": input }));
                    self.emit("response.custom_tool_call_input.delta", delta, out);
                    let done = at(json!({ "input": input }));
                    self.emit("response.custom_tool_call_input.done", done, out);
                } else {
                    let whole = arguments_or_empty(&arguments);
                    if arguments.trim().is_empty() {
                        // What OpenAI sends for a call without arguments.
                        self.emit(
                            "response.function_call_arguments.delta",
                            at(json!({"delta": whole})),
                            out,
                        );
                    }
                    let done = at(json!({ "arguments": whole }));
                    self.emit("response.function_call_arguments.done", done, out);
                }
                let arguments = arguments_or_empty(&arguments);
                self.meta.call_item(&id, &call_id, &name, arguments, status)
            }
        };
        let done = json!({"output_index": index, "item": item});
        self.emit("response.output_item.done", done, out);
        self.output.push(item);
    }

    fn complete(&mut self, out: &mut BytesMut) {
        self.start(out);
        self.close(out, "completed");
        let (status, incomplete) = status_of(self.stop);
        let mut response = self.meta.envelope(
            status,
            std::mem::take(&mut self.output),
            usage(&self.usage, self.reasoning_bytes),
        );
        response["incomplete_details"] = incomplete;
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(kind, json!({ "response": response }), out);
        self.ended = true;
    }

    fn fail(&mut self, error: &ErrorBody, out: &mut BytesMut) {
        self.start(out);
        self.close(out, "incomplete");
        let data = json!({"code": error.kind, "message": error.message, "param": null});
        self.emit("error", data, out);
        let mut response = self.meta.envelope(
            "failed",
            std::mem::take(&mut self.output),
            usage(&self.usage, self.reasoning_bytes),
        );
        response["error"] = json!({"code": error.kind, "message": error.message});
        self.emit("response.failed", json!({ "response": response }), out);
        self.ended = true;
    }

    /// Writes one event: its `type` and `sequence_number` added to `data`.
    fn emit(&mut self, kind: &str, mut data: Value, out: &mut BytesMut) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(data.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }
}

impl StreamEncode for ResponsesEvents {
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

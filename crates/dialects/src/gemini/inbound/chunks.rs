//! Hub stream events as a `streamGenerateContent` stream, the way Gemini
//! streams: every event a whole `GenerateContentResponse` holding the next
//! parts.
//!
//! - text as text parts, thinking as thought parts (only when the client
//!   asked for thoughts), one chunk per delta;
//! - each function call whole, in one chunk, once its arguments are
//!   complete (Gemini never streams arguments);
//! - a last chunk with `finishReason` and `usageMetadata` (and no parts).
//!
//! Framing: `data: {…}` events with `alt=sse`; without it Gemini answers
//! one JSON array whose elements arrive one by one (`[{…}`, `,\r\n{…}`,
//! `]`). An `error` event becomes Google's error object (`{"error": {code,
//! message, status}}`) and ends the stream. Pings are a bare line end,
//! which the google-genai SDKs (Python and JS) and any SSE or JSON reader
//! skip; an SSE comment would break the Python SDK, which parses every
//! non-`data:` line as JSON.

use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};

use super::response::{error_body, finish_reason, function_call, response, GeminiMeta};
use crate::anthropic::{ContentBlock, Delta, StopReason, StreamEvent, Usage};
use crate::translate::StreamEncode;

/// How the stream is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeminiFraming {
    /// `alt=sse`: server-sent events.
    Sse,
    /// No `alt`: one JSON array, streamed element by element.
    JsonArray,
}

/// A function call whose arguments are still arriving.
#[derive(Debug)]
struct OpenCall {
    block: usize,
    id: String,
    name: String,
    arguments: String,
}

/// The state of one Gemini stream.
#[derive(Debug)]
pub struct GeminiChunks {
    meta: GeminiMeta,
    framing: GeminiFraming,
    calls: Vec<OpenCall>,
    usage: Usage,
    stop: Option<StopReason>,
    /// Whether an element of the JSON array has been written.
    opened: bool,
    ended: bool,
}

impl GeminiChunks {
    pub fn new(meta: GeminiMeta, framing: GeminiFraming) -> Self {
        GeminiChunks {
            meta,
            framing,
            calls: Vec::new(),
            usage: Usage::default(),
            stop: None,
            opened: false,
            ended: false,
        }
    }

    fn event(&mut self, event: &StreamEvent, out: &mut BytesMut) {
        match event {
            StreamEvent::MessageStart { message } => merge_usage(&mut self.usage, &message.usage),
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                ContentBlock::ToolUse { id, name, .. } => self.calls.push(OpenCall {
                    block: *index,
                    id: id.clone(),
                    name: name.clone(),
                    arguments: String::new(),
                }),
                ContentBlock::Text { text, .. } if !text.is_empty() => {
                    self.parts(vec![json!({ "text": text })], out)
                }
                _ => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                Delta::TextDelta { text } if !text.is_empty() => {
                    self.parts(vec![json!({ "text": text })], out)
                }
                Delta::ThinkingDelta { thinking }
                    if self.meta.include_thoughts && !thinking.is_empty() =>
                {
                    self.parts(vec![json!({ "text": thinking, "thought": true })], out)
                }
                Delta::InputJsonDelta { partial_json } => {
                    if let Some(call) = self.calls.iter_mut().find(|c| c.block == *index) {
                        call.arguments.push_str(partial_json);
                    }
                }
                _ => {}
            },
            StreamEvent::ContentBlockStop { index } => {
                if let Some(at) = self.calls.iter().position(|c| c.block == *index) {
                    let call = self.calls.remove(at);
                    let args = match call.arguments.trim() {
                        "" => json!({}),
                        text => serde_json::from_str(text)
                            .unwrap_or_else(|_| json!({ "raw_arguments": text })),
                    };
                    self.parts(vec![function_call(&call.id, &call.name, args)], out);
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                merge_usage(&mut self.usage, usage);
                if delta.stop_reason.is_some() {
                    self.stop = delta.stop_reason;
                }
            }
            StreamEvent::MessageStop => {
                let candidate = json!({
                    "content": {"parts": [], "role": "model"},
                    "finishReason": finish_reason(self.stop),
                    "index": 0,
                });
                let chunk = response(vec![candidate], Some(&self.usage), &self.meta);
                self.write(&chunk, out);
                self.close(out);
            }
            StreamEvent::Ping => out.extend_from_slice(&self.ping()),
            StreamEvent::Error { error } => {
                self.write(&error_body(&error.kind, &error.message), out);
                self.close(out);
            }
        }
    }

    fn parts(&mut self, parts: Vec<Value>, out: &mut BytesMut) {
        let candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        let chunk = response(vec![candidate], None, &self.meta);
        self.write(&chunk, out);
    }

    fn write(&mut self, value: &Value, out: &mut BytesMut) {
        let text = value.to_string();
        match self.framing {
            GeminiFraming::Sse => {
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n\r\n");
            }
            GeminiFraming::JsonArray => {
                out.extend_from_slice(if self.opened { b",\r\n" } else { b"[" });
                self.opened = true;
                out.extend_from_slice(text.as_bytes());
            }
        }
    }

    fn close(&mut self, out: &mut BytesMut) {
        self.ended = true;
        if self.framing == GeminiFraming::JsonArray {
            if !self.opened {
                out.extend_from_slice(b"[");
            }
            out.extend_from_slice(b"]");
        }
    }
}

impl StreamEncode for GeminiChunks {
    fn encode(&mut self, events: &[StreamEvent], out: &mut BytesMut) {
        for event in events {
            if self.ended {
                return;
            }
            self.event(event, out);
        }
    }

    fn ping(&self) -> Bytes {
        Bytes::from_static(b"\r\n")
    }
}

/// Later counts win; a field a `message_delta` leaves out (0) keeps the
/// count `message_start` gave.
fn merge_usage(into: &mut Usage, from: &Usage) {
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

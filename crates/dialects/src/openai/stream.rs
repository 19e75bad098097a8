//! A streamed Chat Completions response (SSE `data:` chunks ending with
//! `data: [DONE]`) as Anthropic stream events.
//!
//! - `reasoning_content` (DeepSeek, vLLM) and `reasoning` (OpenRouter) deltas
//!   become a thinking block, closed before the text starts.
//! - Tool calls: see [`super::tool_calls`].
//! - `usage` may come on any chunk (the usage-only final chunk with
//!   `choices: []`, the finish chunk, or every chunk); the last one wins.
//! - `message_delta` + `message_stop` come only once `finish_reason` was seen
//!   and then `[DONE]` or the end of the body, so late usage is included.
//!   `[DONE]` without a `finish_reason` also ends the message normally.
//! - An error chunk (a top-level `error`, vLLM's `object: "error"`, or
//!   OpenRouter's `finish_reason: "error"`) ends the stream with an `error` event.
//! - `message_start` waits for the first real content, so an error in the
//!   first chunk can still be handled before anything reaches the client.

use super::errors;
use super::response::stop_reason;
use super::tool_calls::ToolCalls;
use super::wire::{Body, Completion};
use crate::anthropic::{EventEmitter, StopReason, StreamEvent};
use crate::sse::SseDecoder;
use crate::translate::StreamTranslate;

/// The state of one streamed response.
#[derive(Debug)]
pub(super) struct ChatStream {
    decoder: SseDecoder,
    emitter: EventEmitter,
    tools: ToolCalls,
    finish_reason: Option<String>,
    /// The text came as an OpenAI `refusal`.
    refused: bool,
}

impl ChatStream {
    pub fn new(model: &str, id: &str) -> Self {
        ChatStream {
            decoder: SseDecoder::default(),
            emitter: EventEmitter::new(id, model),
            tools: ToolCalls::new(id),
            finish_reason: None,
            refused: false,
        }
    }

    /// One SSE event's data. Servers that separate chunks with a single
    /// newline produce one event holding several JSON lines: if the data is
    /// not one chunk, each line is tried on its own.
    fn on_data(&mut self, data: &str, out: &mut Vec<StreamEvent>) {
        if !self.on_line(data, out) && data.contains('\n') {
            for line in data.lines() {
                self.on_line(line, out);
            }
        }
    }

    /// Returns false when `line` is neither `[DONE]` nor a JSON chunk.
    fn on_line(&mut self, line: &str, out: &mut Vec<StreamEvent>) -> bool {
        let line = line.trim();
        if line == "[DONE]" {
            self.end(out);
            return true;
        }
        match serde_json::from_str::<Completion>(line) {
            Ok(chunk) => {
                self.on_chunk(&chunk, out);
                true
            }
            // Not a chunk (an unknown payload): ignored.
            Err(_) => false,
        }
    }

    fn on_chunk(&mut self, chunk: &Completion, out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        if let Some(error) = chunk.error() {
            self.emitter.fail(
                errors::anthropic_kind(&error),
                &errors::message(&error),
                out,
            );
            return;
        }
        if let Some(usage) = &chunk.usage {
            // Before any content, so a first-chunk usage reaches message_start.
            *self.emitter.usage_mut() = usage.to_anthropic();
        }
        let Some(choice) = chunk.first_choice() else {
            return;
        };
        if let Some(delta) = choice.body() {
            self.on_delta(delta, out);
        }
        match choice.finish_reason.as_deref() {
            Some("error") => {
                // OpenRouter's error chunk without an error object.
                self.emitter.fail(
                    "api_error",
                    "the upstream provider ended the response with an error",
                    out,
                );
            }
            Some(reason) => self.finish_reason = Some(reason.to_owned()),
            None => {}
        }
    }

    fn on_delta(&mut self, delta: &Body, out: &mut Vec<StreamEvent>) {
        let reasoning = delta.reasoning_text();
        if !reasoning.is_empty() {
            self.tools.release();
            self.emitter.thinking(&reasoning, out);
        }
        let text = delta.content_text();
        if !text.is_empty() {
            self.tools.release();
            self.emitter.text(&text, out);
        }
        let refusal = delta.refusal_text();
        if !refusal.is_empty() {
            self.refused = true;
            self.tools.release();
            self.emitter.text(&refusal, out);
        }
        for piece in &delta.tool_calls {
            self.tools.push(piece, &mut self.emitter, out);
        }
    }

    /// The message is complete: waiting tool calls, then `message_delta` + `message_stop`.
    fn end(&mut self, out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        self.tools.flush(&mut self.emitter, out);
        let mut stop = stop_reason(self.finish_reason.as_deref(), self.tools.any());
        if self.refused && stop == StopReason::EndTurn {
            stop = StopReason::Refusal;
        }
        self.emitter.finish(stop, out);
    }
}

impl StreamTranslate for ChatStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        let mut events = Vec::new();
        let decoded = self.decoder.push_into(chunk, &mut events);
        for event in &events {
            self.on_data(&event.data, out);
        }
        if let Err(error) = decoded {
            self.emitter.fail("api_error", &error.to_string(), out);
        }
    }

    fn finish(&mut self, error: Option<&str>, out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        // A last event without its blank line is dropped, as the SSE spec says.
        self.decoder.finish();
        match error {
            Some(error) => self.emitter.fail("api_error", error, out),
            // Some servers close the body right after the finish chunk, without `[DONE]`.
            None if self.finish_reason.is_some() => self.end(out),
            None => self.emitter.fail(
                "api_error",
                "the upstream stream ended before the response was complete",
                out,
            ),
        }
    }

    fn started(&self) -> bool {
        self.emitter.is_started()
    }
}

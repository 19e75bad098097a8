//! Ollama's streamed `/api/chat` (NDJSON, one JSON object per line) →
//! Anthropic stream events.
//!
//! Each line carries a piece of `message.thinking` and/or `message.content`;
//! tool calls arrive whole in one line (never as fragments); the last line has
//! `done: true` with `done_reason` and the token counts. An error after the
//! HTTP status was sent arrives as a line `{"error": "..."}` (docs/api/errors.mdx).

use super::response::{
    error_kind, error_message, stop_reason, tool_call_parts, tool_use_id, usage,
};
use super::wire::ChatChunk;
use crate::anthropic::{EventEmitter, StreamEvent};
use crate::ndjson::NdjsonDecoder;
use crate::StreamTranslate;

/// The state of one translated Ollama stream.
#[derive(Debug)]
pub(super) struct OllamaStream {
    decoder: NdjsonDecoder,
    emitter: EventEmitter,
    message_id: String,
    tool_calls: usize,
    /// Whether the `done: true` line arrived: without it the body broke off.
    done: bool,
}

impl OllamaStream {
    pub(super) fn new(model: &str, id: &str) -> Self {
        OllamaStream {
            decoder: NdjsonDecoder::default(),
            emitter: EventEmitter::new(id, model),
            message_id: id.to_owned(),
            tool_calls: 0,
            done: false,
        }
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        // A line that is not a chat object carries nothing to translate; if
        // the stream then ends without `done`, `finish` reports it.
        let Ok(chunk) = serde_json::from_slice::<ChatChunk>(line) else {
            return;
        };
        if let Some(error) = &chunk.error {
            let message = error_message(error);
            self.emitter.fail(error_kind(&message), &message, out);
            return;
        }
        self.emitter.start(out);
        if let Some(message) = &chunk.message {
            if let Some(thinking) = &message.thinking {
                self.emitter.thinking(thinking, out);
            }
            if let Some(text) = &message.content {
                self.emitter.text(text, out);
            }
            for (name, input) in message
                .tool_calls
                .iter()
                .flatten()
                .filter_map(tool_call_parts)
            {
                let id = tool_use_id(&self.message_id, self.tool_calls);
                self.tool_calls += 1;
                self.emitter.tool_use_start(&id, &name, out);
                // The arguments are whole already: one delta carries them all.
                self.emitter.tool_input(&input.to_string(), out);
                self.emitter.close_block(out);
            }
        }
        if chunk.done {
            self.done = true;
            *self.emitter.usage_mut() = usage(&chunk);
            let stop = stop_reason(chunk.done_reason.as_deref(), self.emitter.saw_tool_use());
            self.emitter.finish(stop, out);
        }
    }
}

impl StreamTranslate for OllamaStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        match self.decoder.push(chunk) {
            Ok(lines) => {
                for line in lines {
                    self.line(&line, out);
                }
            }
            Err(too_long) => {
                self.emitter
                    .fail("api_error", &format!("Ollama stream: {too_long}"), out)
            }
        }
    }

    fn finish(&mut self, error: Option<&str>, out: &mut Vec<StreamEvent>) {
        // The last line may lack its newline.
        if let Some(line) = self.decoder.finish() {
            self.line(&line, out);
        }
        if let Some(error) = error {
            self.emitter.fail("api_error", error, out);
        } else if !self.done {
            self.emitter.fail(
                "api_error",
                "Ollama stream ended before its final `done` line",
                out,
            );
        }
    }

    fn started(&self) -> bool {
        self.emitter.is_started()
    }
}

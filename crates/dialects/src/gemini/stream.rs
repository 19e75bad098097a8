//! `streamGenerateContent?alt=sse` → Anthropic stream events.
//!
//! Every event is a whole `GenerateContentResponse` holding the next parts.
//! Gemini sends no end marker: the stream is complete when a chunk with a
//! `finishReason` arrived and the body ended. Function calls arrive whole, so
//! each becomes one `tool_use` block with its arguments in one delta.

use super::frames::{Frame, Frames};
use super::ids::{self, ToolIds};
use super::wire::{self, GenerateContentResponse, Part};
use crate::anthropic::{EventEmitter, StopReason, StreamEvent, Usage};
use crate::translate::StreamTranslate;

/// The state of one translated Gemini stream.
#[derive(Debug)]
pub(super) struct GeminiStream {
    frames: Frames,
    emitter: EventEmitter,
    ids: ToolIds,
    finish_reason: Option<String>,
    /// `promptFeedback.blockReason` with no candidate: the prompt was refused.
    blocked: bool,
}

impl GeminiStream {
    pub fn new(model: &str, id: &str) -> Self {
        GeminiStream {
            frames: Frames::default(),
            emitter: EventEmitter::new(id, model),
            ids: ToolIds::new(id),
            finish_reason: None,
            blocked: false,
        }
    }

    fn frames(
        &mut self,
        frames: Vec<Frame>,
        result: Result<(), String>,
        out: &mut Vec<StreamEvent>,
    ) {
        for frame in frames {
            self.frame(frame, out);
        }
        if let Err(error) = result {
            self.emitter.fail("api_error", &error, out);
        }
    }

    fn frame(&mut self, frame: Frame, out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        let (text, bare) = match &frame {
            Frame::Data(text) => (text.trim(), false),
            Frame::Bare(text) => (text.trim(), true),
        };
        // Unknown or garbled payloads are skipped, never fatal.
        let Ok(chunk) = serde_json::from_str::<GenerateContentResponse>(text) else {
            return;
        };
        if let Some(error) = &chunk.error {
            self.emitter
                .fail(error.anthropic_kind(), &error.text(), out);
            return;
        }
        if bare {
            // Only errors come outside SSE framing.
            return;
        }
        // Counts are cumulative, so each chunk's replace the last ones.
        let usage = chunk
            .usage_metadata
            .as_ref()
            .filter(|u| u.has_counts())
            .map(|u| u.to_usage());
        if chunk.candidates.is_none() && chunk.prompt_feedback.is_none() {
            if let Some(usage) = usage {
                *self.emitter.usage_mut() = usage;
            }
            return;
        }
        if !self.emitter.is_started() {
            // `message_start` carries the prompt size; output is counted at the end.
            if let Some(usage) = &usage {
                *self.emitter.usage_mut() = Usage {
                    output_tokens: 0,
                    ..usage.clone()
                };
            }
            self.emitter.start(out);
        }
        if let Some(usage) = usage {
            *self.emitter.usage_mut() = usage;
        }
        let Some(candidate) = chunk.first_candidate() else {
            self.blocked |= chunk.block_reason().is_some();
            return;
        };
        for part in candidate.parts() {
            self.part(part, out);
        }
        if let Some(reason) = &candidate.finish_reason {
            self.finish_reason = Some(reason.clone());
        }
    }

    fn part(&mut self, part: &Part, out: &mut Vec<StreamEvent>) {
        if let Some(call) = &part.function_call {
            // The call's signature goes on a thinking block just before it,
            // and into the id's memory (see `ids`).
            if let Some(signature) = part.signature() {
                self.signature(signature, out);
            }
            let id = self.ids.mint(call.id.as_deref(), part.signature());
            self.emitter.tool_use_start(&id, &call.name, out);
            self.emitter.tool_input(&call.args_json(), out);
            self.emitter.close_block(out);
            return;
        }
        let text = part.text.as_deref().unwrap_or_default();
        if part.is_thought() {
            self.emitter.thinking(text, out);
            if let Some(signature) = part.signature() {
                self.signature(signature, out);
            }
        } else {
            // A signature on a text part covers the thoughts before it.
            if let Some(signature) = part.signature() {
                self.signature(signature, out);
            }
            self.emitter.text(text, out);
        }
    }

    /// One signature per thinking block: it closes the block it lands on.
    fn signature(&mut self, gemini: &str, out: &mut Vec<StreamEvent>) {
        self.emitter
            .signature(&ids::thinking_signature(gemini), out);
        self.emitter.close_block(out);
    }
}

impl StreamTranslate for GeminiStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<StreamEvent>) {
        if self.emitter.is_ended() {
            return;
        }
        let mut frames = Vec::new();
        let result = self.frames.push(chunk, &mut frames);
        self.frames(frames, result, out);
    }

    fn finish(&mut self, error: Option<&str>, out: &mut Vec<StreamEvent>) {
        if !self.emitter.is_ended() {
            let mut frames = Vec::new();
            let result = self.frames.finish(&mut frames);
            self.frames(frames, result, out);
        }
        if self.emitter.is_ended() {
            return;
        }
        if let Some(error) = error {
            self.emitter.fail("api_error", error, out);
        } else if let Some(reason) = self.finish_reason.as_deref() {
            let stop = wire::stop_reason(reason, self.emitter.saw_tool_use());
            self.emitter.finish(stop, out);
        } else if self.blocked {
            self.emitter.finish(StopReason::Refusal, out);
        } else {
            self.emitter.fail(
                "api_error",
                "the Gemini stream ended before a finishReason",
                out,
            );
        }
    }

    fn started(&self) -> bool {
        self.emitter.is_started()
    }
}

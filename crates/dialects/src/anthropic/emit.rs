//! Builds a complete Anthropic event sequence from translated pieces.
//!
//! Claude Code silently retries, falls back or returns an empty result when
//! `message_start`, `content_block_start` or `content_block_stop` is missing,
//! so every translator emits through this type: it opens and closes blocks in
//! order, never interleaves them, and always ends with `message_delta` +
//! `message_stop`, or with an `error` event after closing what is open.

use serde_json::Value;

use super::types::{
    ContentBlock, Delta, ErrorBody, MessageDeltaBody, MessagesResponse, StopReason, StreamEvent,
    Usage,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    ToolUse,
}

/// The state of one translated response stream.
#[derive(Debug)]
pub struct EventEmitter {
    id: String,
    model: String,
    started: bool,
    ended: bool,
    open: Option<(usize, BlockKind)>,
    next_index: usize,
    usage: Usage,
    saw_tool_use: bool,
}

impl EventEmitter {
    /// `id` should look like Anthropic's (`msg_…`).
    pub fn new(id: impl Into<String>, model: impl Into<String>) -> Self {
        EventEmitter {
            id: id.into(),
            model: model.into(),
            started: false,
            ended: false,
            open: None,
            next_index: 0,
            usage: Usage::default(),
            saw_tool_use: false,
        }
    }

    /// Usage so far; later calls overwrite earlier values.
    pub fn usage_mut(&mut self) -> &mut Usage {
        &mut self.usage
    }

    pub fn is_started(&self) -> bool {
        self.started
    }

    /// Whether `finish` or `fail` has run: nothing more will be emitted.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether any tool_use block was emitted (a stop reason hint).
    pub fn saw_tool_use(&self) -> bool {
        self.saw_tool_use
    }

    /// Emits `message_start` once.
    pub fn start(&mut self, out: &mut Vec<StreamEvent>) {
        if self.started || self.ended {
            return;
        }
        self.started = true;
        let mut message = MessagesResponse::new(
            self.id.clone(),
            self.model.clone(),
            Vec::new(),
            StopReason::EndTurn,
            self.usage.clone(),
        );
        message.stop_reason = None;
        out.push(StreamEvent::MessageStart { message });
    }

    pub fn text(&mut self, text: &str, out: &mut Vec<StreamEvent>) {
        if text.is_empty() || self.ended {
            return;
        }
        let index = self.ensure_block(BlockKind::Text, out, || ContentBlock::text(""));
        out.push(StreamEvent::ContentBlockDelta {
            index,
            delta: Delta::TextDelta {
                text: text.to_owned(),
            },
        });
    }

    pub fn thinking(&mut self, text: &str, out: &mut Vec<StreamEvent>) {
        if text.is_empty() || self.ended {
            return;
        }
        let index = self.ensure_block(BlockKind::Thinking, out, empty_thinking);
        out.push(StreamEvent::ContentBlockDelta {
            index,
            delta: Delta::ThinkingDelta {
                thinking: text.to_owned(),
            },
        });
    }

    /// A signature for the current thinking block (opened empty if none is).
    pub fn signature(&mut self, signature: &str, out: &mut Vec<StreamEvent>) {
        if signature.is_empty() || self.ended {
            return;
        }
        let index = self.ensure_block(BlockKind::Thinking, out, empty_thinking);
        out.push(StreamEvent::ContentBlockDelta {
            index,
            delta: Delta::SignatureDelta {
                signature: signature.to_owned(),
            },
        });
    }

    /// Opens a new tool_use block (closing whatever is open).
    pub fn tool_use_start(&mut self, id: &str, name: &str, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.start(out);
        self.close_block(out);
        self.saw_tool_use = true;
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, BlockKind::ToolUse));
        out.push(StreamEvent::ContentBlockStart {
            index,
            content_block: ContentBlock::ToolUse {
                id: id.to_owned(),
                name: name.to_owned(),
                input: Value::Object(Default::default()),
            },
        });
    }

    /// A piece of the open tool call's JSON arguments.
    pub fn tool_input(&mut self, partial_json: &str, out: &mut Vec<StreamEvent>) {
        if partial_json.is_empty() || self.ended {
            return;
        }
        if let Some((index, BlockKind::ToolUse)) = self.open {
            out.push(StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::InputJsonDelta {
                    partial_json: partial_json.to_owned(),
                },
            });
        }
    }

    /// Closes the open block, if any.
    pub fn close_block(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::ContentBlockStop { index });
        }
    }

    /// Ends the message: closes the open block, then `message_delta` and `message_stop`.
    pub fn finish(&mut self, stop_reason: StopReason, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.start(out);
        self.close_block(out);
        self.ended = true;
        out.push(StreamEvent::MessageDelta {
            delta: MessageDeltaBody {
                stop_reason: Some(stop_reason),
                stop_sequence: None,
            },
            usage: self.usage.clone(),
        });
        out.push(StreamEvent::MessageStop);
    }

    /// Ends the stream with an error: starts the message if needed (so the
    /// client sees a well-formed sequence), closes the open block, then `error`.
    pub fn fail(&mut self, kind: &str, message: &str, out: &mut Vec<StreamEvent>) {
        if self.ended {
            return;
        }
        self.start(out);
        self.close_block(out);
        self.ended = true;
        out.push(StreamEvent::Error {
            error: ErrorBody {
                kind: kind.to_owned(),
                message: message.to_owned(),
            },
        });
    }

    fn ensure_block(
        &mut self,
        kind: BlockKind,
        out: &mut Vec<StreamEvent>,
        block: impl FnOnce() -> ContentBlock,
    ) -> usize {
        self.start(out);
        if let Some((index, open)) = self.open {
            if open == kind {
                return index;
            }
            self.close_block(out);
        }
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, kind));
        out.push(StreamEvent::ContentBlockStart {
            index,
            content_block: block(),
        });
        index
    }
}

fn empty_thinking() -> ContentBlock {
    ContentBlock::Thinking {
        thinking: String::new(),
        signature: String::new(),
    }
}

#[cfg(test)]
mod tests;

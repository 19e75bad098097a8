//! Streamed `tool_calls` pieces as Anthropic tool_use blocks.
//!
//! OpenAI keys each piece by `tool_calls[].index`; with parallel calls the
//! pieces of several calls may interleave, but Anthropic blocks cannot. So:
//! - The first call (in order of first appearance) that has a name opens a
//!   block and its arguments stream live as `input_json_delta`s.
//! - Pieces of any other call are buffered until the open call is done: its
//!   arguments so far are a whole JSON document and the next call has begun
//!   (servers send parallel calls one after another). Then the open block
//!   closes and the next call, in order of first appearance, opens with what
//!   it has buffered and streams live in turn.
//! - A call still waiting when the stream ends (its predecessor's arguments
//!   never completed) is emitted then, whole.
//! - Text or thinking arriving while a call's block is open closes it
//!   (blocks cannot interleave); arguments that arrive for that call later
//!   have no block left to go to and are dropped. No known server does this.
//!
//! A piece whose `id` differs from the call already at its index starts a new
//! call: some servers omit `index`, so every call arrives as index 0.

use super::response::tool_use_id;
use super::wire::ToolCall;
use crate::anthropic::{EventEmitter, StreamEvent};

/// The name given to a call the provider never named (the client then
/// reports an unknown tool to the model instead of losing the call).
const UNNAMED_TOOL: &str = "unknown_tool";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Open,
    Closed,
}

#[derive(Debug)]
struct Call {
    index: u64,
    id: Option<String>,
    name: String,
    /// Arguments received but not yet emitted.
    pending: String,
    /// Every argument piece received, to tell when the call is done.
    received: String,
    state: State,
}

impl Call {
    /// Whether the arguments so far are a whole JSON document.
    fn complete(&self) -> bool {
        serde_json::from_str::<serde::de::IgnoredAny>(&self.received).is_ok()
    }
}

/// The tool calls of one streamed response.
#[derive(Debug)]
pub(super) struct ToolCalls {
    message_id: String,
    calls: Vec<Call>,
    /// The call whose block is open, as a position in `calls`.
    open: Option<usize>,
}

impl ToolCalls {
    pub fn new(message_id: &str) -> Self {
        ToolCalls {
            message_id: message_id.to_owned(),
            calls: Vec::new(),
            open: None,
        }
    }

    /// Whether the response called any tool.
    pub fn any(&self) -> bool {
        !self.calls.is_empty()
    }

    /// One `tool_calls[]` piece; emits whatever can be emitted now.
    pub fn push(
        &mut self,
        piece: &ToolCall,
        emitter: &mut EventEmitter,
        out: &mut Vec<StreamEvent>,
    ) {
        let index = piece.index.unwrap_or(0);
        let id = piece.id.as_deref().filter(|id| !id.is_empty());
        // A different id at a known index is a new call (servers that omit `index`).
        let continues = |call: &Call| match (id, call.id.as_deref()) {
            (Some(new), Some(old)) => new == old,
            _ => true,
        };
        let position = match self.calls.iter().rposition(|c| c.index == index) {
            Some(p) if continues(&self.calls[p]) => p,
            _ => {
                self.calls.push(Call {
                    index,
                    id: None,
                    name: String::new(),
                    pending: String::new(),
                    received: String::new(),
                    state: State::Waiting,
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[position];
        if call.id.is_none() {
            call.id = id.map(str::to_owned);
        }
        if let Some(function) = &piece.function {
            // Some servers repeat the name on every piece: the first one counts.
            if call.name.is_empty() {
                call.name = function.name.clone().unwrap_or_default();
            }
            let arguments = function.arguments_text();
            call.pending.push_str(&arguments);
            call.received.push_str(&arguments);
        }
        self.pump(emitter, out);
    }

    /// A text or thinking block is about to open, which closes the call's block.
    pub fn release(&mut self) {
        if let Some(open) = self.open.take() {
            self.calls[open].state = State::Closed;
        }
    }

    /// The stream ended: the open call gets its last arguments, then every
    /// waiting call is emitted in order of first appearance.
    pub fn flush(&mut self, emitter: &mut EventEmitter, out: &mut Vec<StreamEvent>) {
        self.pump(emitter, out);
        self.release();
        for position in 0..self.calls.len() {
            if self.calls[position].state == State::Waiting {
                self.start(position, emitter, out);
                self.release();
            }
        }
    }

    fn pump(&mut self, emitter: &mut EventEmitter, out: &mut Vec<StreamEvent>) {
        loop {
            if let Some(open) = self.open {
                let pending = std::mem::take(&mut self.calls[open].pending);
                emitter.tool_input(&pending, out);
                // Done, and the next call has begun: its turn.
                let next_begun = self
                    .calls
                    .iter()
                    .any(|c| c.state == State::Waiting && !c.name.is_empty());
                if !(next_begun && self.calls[open].complete()) {
                    return;
                }
                self.release();
            }
            // Only the earliest waiting call may open, so calls keep their order.
            let next = self.calls.iter().position(|c| c.state == State::Waiting);
            match next.filter(|&p| !self.calls[p].name.is_empty()) {
                Some(position) => self.start(position, emitter, out),
                None => return,
            }
        }
    }

    fn start(&mut self, position: usize, emitter: &mut EventEmitter, out: &mut Vec<StreamEvent>) {
        let id = self.calls[position]
            .id
            .clone()
            .unwrap_or_else(|| tool_use_id(&self.message_id, position));
        let call = &mut self.calls[position];
        let name = if call.name.is_empty() {
            UNNAMED_TOOL
        } else {
            call.name.as_str()
        };
        emitter.tool_use_start(&id, name, out);
        emitter.tool_input(&std::mem::take(&mut call.pending), out);
        call.state = State::Open;
        self.open = Some(position);
    }
}

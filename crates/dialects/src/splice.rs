//! One answer for the client out of several legs: the stream of the first
//! upstream, and, after it broke, the streams of the ones asked for the
//! rest of it (see [`crate::prefill`]). Hub events of each leg in, hub
//! events of one well-formed answer out:
//!
//! - a continuation's `message_start` is not sent again; its blocks take
//!   the indexes that come next, and its first text block continues the
//!   text block the break cut, with whitespace the prefill left off not
//!   repeated;
//! - a tool call's events are held until its block stops (when asked), so a
//!   client never sees half a call: a break inside it drops it, and the
//!   continuation makes it again, whole;
//! - a continuation's thinking is left out (the client's turn is past it);
//! - usage is the sum of the legs, the stop reason the last leg's;
//! - an `error` event (and the block closes a translator writes just
//!   before it) is not sent: it is a [`Cut`], and the caller either starts
//!   the next leg ([`Splice::next_leg`]) or ends the answer with it
//!   ([`Splice::fail`]).
//!
//! What the client has decides whether its turn can be continued exactly
//! ([`Splice::prefill`]): text only. A thinking block (its signature would
//! be missing, and thinking cannot be prefilled), a tool call the client
//! already has, or a block keyrelay does not know cannot be continued.

use crate::anthropic::{ContentBlock, Delta, ErrorBody, StreamEvent, Usage};

/// The state of one spliced answer.
#[derive(Debug)]
pub struct Splice {
    hold_tools: bool,
    started: bool,
    over: bool,
    /// The blocks the client has, by their index in its stream.
    blocks: Vec<Block>,
    /// Where the current leg's blocks went, by the leg's own index.
    map: Vec<(usize, Route)>,
    /// Legs after the first so far.
    continuations: usize,
    /// The cut text block the continuation's first text block continues.
    merge_into: Option<usize>,
    /// Whitespace the prefill left off: skipped where the continuation
    /// starts with it again.
    skip: String,
    /// A tool call held until whole: its leg index, its client index and
    /// its events.
    held: Option<Held>,
    /// The legs before this one, summed.
    before: Usage,
    /// This leg's usage so far.
    this: Usage,
    /// Bytes of content this leg gave the client, for an estimate of its
    /// output when it breaks before reporting it.
    leg_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    To(usize),
    /// A continuation's thinking: left out.
    Dropped,
}

#[derive(Debug)]
struct Block {
    kind: Kind,
    text: String,
    open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    ToolUse,
    Other,
}

#[derive(Debug)]
struct Held {
    leg_index: usize,
    client_index: usize,
    events: Vec<StreamEvent>,
}

/// A leg ended in an error after the answer began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// What its `error` event said.
    pub error: ErrorBody,
}

/// Why the client's turn cannot be continued exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inexact {
    /// The client has thinking, whose signature a continuation cannot
    /// give back.
    Thinking,
    /// The client has a whole tool call: a turn cannot go on after one.
    ToolCall,
    /// A block keyrelay cannot send back as it was.
    OtherBlock,
}

impl std::fmt::Display for Inexact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Inexact::Thinking => "the answer so far holds thinking, which cannot be continued",
            Inexact::ToolCall => {
                "the answer so far holds a tool call, after which a turn cannot be continued"
            }
            Inexact::OtherBlock => "the answer so far holds a block that cannot be sent back",
        })
    }
}

impl Splice {
    /// `hold_tools`: hold each tool call's events until the call is whole.
    pub fn new(hold_tools: bool) -> Self {
        Splice {
            hold_tools,
            started: false,
            over: false,
            blocks: Vec::new(),
            map: Vec::new(),
            continuations: 0,
            merge_into: None,
            skip: String::new(),
            held: None,
            before: Usage::default(),
            this: Usage::default(),
            leg_bytes: 0,
        }
    }

    /// Whether `message_start` went out.
    pub fn started(&self) -> bool {
        self.started
    }

    /// Whether the answer ended (`message_stop`, or the error of [`Splice::fail`]).
    pub fn is_over(&self) -> bool {
        self.over
    }

    /// Whether a tool call is being held.
    pub fn holding(&self) -> bool {
        self.held.is_some()
    }

    /// Legs after the first so far.
    pub fn continuations(&self) -> usize {
        self.continuations
    }

    /// The current leg's events; what the client gets goes to `out`. An
    /// `error` event ends the leg: it is returned, not sent.
    pub fn push(&mut self, events: &[StreamEvent], out: &mut Vec<StreamEvent>) -> Option<Cut> {
        if self.over {
            return None;
        }
        let error = events
            .iter()
            .position(|e| matches!(e, StreamEvent::Error { .. }));
        let mut upto = error.unwrap_or(events.len());
        // A translator closes what is open just before its error.
        while upto > 0
            && error.is_some()
            && matches!(events[upto - 1], StreamEvent::ContentBlockStop { .. })
        {
            upto -= 1;
        }
        for event in &events[..upto] {
            self.event(event, out);
            if self.over {
                return None;
            }
        }
        match error.map(|at| &events[at]) {
            Some(StreamEvent::Error { error }) => Some(Cut {
                error: error.clone(),
            }),
            _ => None,
        }
    }

    /// The text the client has of its turn, as the prefill a continuation
    /// starts from (trailing whitespace included: see
    /// [`crate::prefill::prefill_text`]); or why it cannot be continued.
    pub fn prefill(&self) -> Result<String, Inexact> {
        let mut text = String::new();
        for block in &self.blocks {
            match block.kind {
                Kind::Text => text.push_str(&block.text),
                Kind::Thinking => return Err(Inexact::Thinking),
                Kind::ToolUse => return Err(Inexact::ToolCall),
                Kind::Other => return Err(Inexact::OtherBlock),
            }
        }
        Ok(text)
    }

    /// A continuation leg starts: its events follow what the client has.
    pub fn next_leg(&mut self) {
        self.continuations += 1;
        self.map.clear();
        self.held = None;
        self.merge_into = self
            .blocks
            .iter()
            .rposition(|b| b.open)
            .filter(|&at| self.blocks[at].kind == Kind::Text);
        let sent: String = self.blocks.iter().map(|b| b.text.as_str()).collect();
        self.skip = sent[sent.trim_end().len()..].to_owned();
        // A leg that broke before counting its output: about four bytes a token.
        let estimate = u64::try_from(self.leg_bytes.div_ceil(4)).unwrap_or(u64::MAX);
        self.this.output_tokens = self.this.output_tokens.max(estimate);
        add(&mut self.before, &self.this);
        self.this = Usage::default();
        self.leg_bytes = 0;
    }

    /// Ends the answer with `error` (no leg continues it): the open block
    /// closes, a held tool call is dropped.
    pub fn fail(&mut self, error: ErrorBody, out: &mut Vec<StreamEvent>) {
        if self.over {
            return;
        }
        self.held = None;
        self.merge_into = None;
        for at in 0..self.blocks.len() {
            self.close(at, out);
        }
        self.over = true;
        out.push(StreamEvent::Error { error });
    }

    fn event(&mut self, event: &StreamEvent, out: &mut Vec<StreamEvent>) {
        match event {
            StreamEvent::MessageStart { message } => {
                self.this = message.usage.clone();
                if !self.started {
                    self.started = true;
                    out.push(event.clone());
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.start(*index, content_block, out),
            StreamEvent::ContentBlockDelta { index, delta } => self.delta(*index, delta, out),
            StreamEvent::ContentBlockStop { index } => self.stop(*index, out),
            StreamEvent::MessageDelta { delta, usage } => {
                merge(&mut self.this, usage);
                self.settle_blocks(out);
                let mut total = self.before.clone();
                add(&mut total, &self.this);
                out.push(StreamEvent::MessageDelta {
                    delta: delta.clone(),
                    usage: total,
                });
            }
            StreamEvent::MessageStop => {
                self.settle_blocks(out);
                self.over = true;
                out.push(StreamEvent::MessageStop);
            }
            StreamEvent::Ping => out.push(StreamEvent::Ping),
            StreamEvent::Error { .. } => {}
        }
    }

    fn start(&mut self, index: usize, block: &ContentBlock, out: &mut Vec<StreamEvent>) {
        let kind = kind_of(block);
        if self.continuations > 0 && kind == Kind::Thinking {
            self.map.push((index, Route::Dropped));
            return;
        }
        if let Some(cut) = self.merge_into.take() {
            if kind == Kind::Text {
                self.map.push((index, Route::To(cut)));
                if let ContentBlock::Text { text, .. } = block {
                    self.text(cut, text, out);
                }
                return;
            }
            // The continuation moved on without text: the cut block ends here.
            self.close(cut, out);
        }
        let at = self.blocks.len();
        self.map.push((index, Route::To(at)));
        let start = StreamEvent::ContentBlockStart {
            index: at,
            content_block: block.clone(),
        };
        if kind == Kind::ToolUse && self.hold_tools {
            self.held = Some(Held {
                leg_index: index,
                client_index: at,
                events: vec![start],
            });
            return;
        }
        let text = match block {
            ContentBlock::Text { text, .. } => text.clone(),
            _ => String::new(),
        };
        self.blocks.push(Block {
            kind,
            text,
            open: true,
        });
        out.push(start);
    }

    fn delta(&mut self, index: usize, delta: &Delta, out: &mut Vec<StreamEvent>) {
        let Some(Route::To(at)) = self.route(index) else {
            return;
        };
        self.leg_bytes += match delta {
            Delta::TextDelta { text } => text.len(),
            Delta::InputJsonDelta { partial_json } => partial_json.len(),
            Delta::ThinkingDelta { thinking } => thinking.len(),
            Delta::SignatureDelta { .. } => 0,
        };
        let event = StreamEvent::ContentBlockDelta {
            index: at,
            delta: delta.clone(),
        };
        if let Some(held) = self.held.as_mut().filter(|h| h.leg_index == index) {
            held.events.push(event);
            return;
        }
        match delta {
            Delta::TextDelta { text } => self.text(at, text, out),
            Delta::ThinkingDelta { thinking } => {
                if let Some(block) = self.blocks.get_mut(at) {
                    block.text.push_str(thinking);
                }
                out.push(event);
            }
            _ => out.push(event),
        }
    }

    fn stop(&mut self, index: usize, out: &mut Vec<StreamEvent>) {
        let Some(Route::To(at)) = self.route(index) else {
            return;
        };
        if self.held.as_ref().is_some_and(|h| h.leg_index == index) {
            self.release(out);
            return;
        }
        self.close(at, out);
    }

    /// Text for client block `at`, less whitespace the prefill left off.
    fn text(&mut self, at: usize, text: &str, out: &mut Vec<StreamEvent>) {
        let mut text = text;
        if !self.skip.is_empty() {
            let common = self
                .skip
                .char_indices()
                .zip(text.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((at, c), _)| at + c.len_utf8());
            text = &text[common..];
            if text.is_empty() {
                self.skip.drain(..common);
            } else {
                self.skip.clear();
            }
        }
        if text.is_empty() {
            return;
        }
        if let Some(block) = self.blocks.get_mut(at) {
            block.text.push_str(text);
        }
        out.push(StreamEvent::ContentBlockDelta {
            index: at,
            delta: Delta::TextDelta {
                text: text.to_owned(),
            },
        });
    }

    /// The held call is whole: it goes out, start to stop.
    fn release(&mut self, out: &mut Vec<StreamEvent>) {
        let Some(held) = self.held.take() else {
            return;
        };
        out.extend(held.events);
        out.push(StreamEvent::ContentBlockStop {
            index: held.client_index,
        });
        self.blocks.push(Block {
            kind: Kind::ToolUse,
            text: String::new(),
            open: false,
        });
    }

    /// Before the message ends: a cut block the continuation never
    /// reached closes, a call never stopped goes out.
    fn settle_blocks(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some(cut) = self.merge_into.take() {
            self.close(cut, out);
        }
        self.release(out);
    }

    fn close(&mut self, at: usize, out: &mut Vec<StreamEvent>) {
        if let Some(block) = self.blocks.get_mut(at).filter(|b| b.open) {
            block.open = false;
            out.push(StreamEvent::ContentBlockStop { index: at });
        }
    }

    fn route(&self, index: usize) -> Option<Route> {
        self.map
            .iter()
            .rev()
            .find(|(leg, _)| *leg == index)
            .map(|(_, route)| *route)
    }
}

fn kind_of(block: &ContentBlock) -> Kind {
    match block {
        ContentBlock::Text { .. } => Kind::Text,
        ContentBlock::Thinking { .. } | ContentBlock::RedactedThinking { .. } => Kind::Thinking,
        ContentBlock::ToolUse { .. } => Kind::ToolUse,
        _ => Kind::Other,
    }
}

/// Later counts win; a field a `message_delta` leaves out (0) keeps the
/// count `message_start` gave.
fn merge(into: &mut Usage, from: &Usage) {
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

fn add(into: &mut Usage, from: &Usage) {
    into.input_tokens += from.input_tokens;
    into.output_tokens += from.output_tokens;
    into.cache_creation_input_tokens += from.cache_creation_input_tokens;
    into.cache_read_input_tokens += from.cache_read_input_tokens;
}

#[cfg(test)]
mod tests;

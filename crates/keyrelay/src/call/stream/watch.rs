//! Watching a stream that already reached its client for an error the
//! upstream sends inside it (Anthropic's `overloaded_error` event, an
//! OpenRouter or Gemini error chunk, an Ollama error line), so it is
//! counted against the key with its class, as the same event would be had
//! it come first.

use bytes::Bytes;
use dialects::split::EventSplit;
use dialects::sse::SseDecoder;
use keypool::{Clock, Outcome};

use crate::dialect::{self, Dialect, Framing};

/// An error event is small; a larger event is content.
const ERROR_EVENT_LIMIT: usize = 64 * 1024;

/// Events larger than this are not watched (the stream's own decoders cap
/// what they take).
const WATCHED_EVENT_LIMIT: usize = 8 * 1024 * 1024;

pub struct Watch {
    split: Option<EventSplit>,
    dialect: Dialect,
    framing: Framing,
    clock: Clock,
    events: Vec<Bytes>,
    found: Option<Outcome>,
}

impl Watch {
    /// A stream from a `dialect` provider, framed as `framing`.
    pub fn new(dialect: Dialect, framing: Framing, clock: Clock) -> Watch {
        Watch {
            split: (framing != Framing::Whole)
                .then(|| EventSplit::new(framing, WATCHED_EVENT_LIMIT)),
            dialect,
            framing,
            clock,
            events: Vec::new(),
            found: None,
        }
    }

    /// Reads one chunk of the upstream's body.
    pub fn feed(&mut self, chunk: &[u8]) {
        let Some(split) = self.split.as_mut() else {
            return;
        };
        if self.found.is_some() {
            return;
        }
        self.events.clear();
        if split.push(chunk, &mut self.events).is_err() {
            // An endless event: the stream's own reader ends it.
            self.split = None;
            return;
        }
        for index in 0..self.events.len() {
            if let Some(outcome) = self.error_in(&self.events[index]) {
                self.found = Some(outcome);
                return;
            }
        }
    }

    /// Reads one whole event (as [`EventSplit`] cut it): the error it
    /// carries, classified, if it is one.
    pub fn event(&mut self, raw: &[u8]) -> Option<Outcome> {
        let outcome = self.error_in(raw)?;
        self.found.get_or_insert_with(|| outcome.clone());
        Some(outcome)
    }

    /// The first error the upstream sent inside the stream, classified.
    pub fn found(&self) -> Option<&Outcome> {
        self.found.as_ref()
    }

    pub fn take(&mut self) -> Option<Outcome> {
        self.found.take()
    }

    /// The error `raw` (one whole event) carries, if it is one.
    fn error_in(&self, raw: &[u8]) -> Option<Outcome> {
        if raw.len() > ERROR_EVENT_LIMIT || memchr::memmem::find(raw, b"error").is_none() {
            return None;
        }
        let now = self.clock.wall();
        match self.framing {
            Framing::Sse => {
                let mut decoder = SseDecoder::new(ERROR_EVENT_LIMIT);
                let event = decoder.push(raw).ok()?.into_iter().next()?;
                dialect::classify_stream_event(
                    self.dialect,
                    event.event.as_deref(),
                    event.data.as_bytes(),
                    now,
                )
            }
            Framing::Ndjson => dialect::classify_stream_event(self.dialect, None, raw, now),
            Framing::Whole => None,
        }
    }
}

#[cfg(test)]
mod tests;

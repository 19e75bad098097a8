//! Incremental server-sent events decoder (the WHATWG event-stream format).
//!
//! Accepts any byte split: feed chunks as they arrive and get complete events
//! back. Handles LF, CR and CRLF line ends (also split across chunks),
//! multi-line `data`, comments and a leading BOM.

use bytes::{Buf, BytesMut};

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// `data:` lines joined with `\n`.
    pub data: String,
    pub id: Option<String>,
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event grew past the cap without being terminated.
    EventTooLarge { limit: usize },
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseError::EventTooLarge { limit } => {
                write!(f, "server-sent event larger than {limit} bytes")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The decoder's state between chunks.
#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    /// The first bytes of `buf` known to hold no line end: a long line
    /// arriving in many chunks is scanned once, not once per chunk.
    scanned: usize,
    /// The previous chunk ended in CR: a leading LF of the next one belongs to it.
    pending_cr: bool,
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// Bytes held for the event being built (fields plus the partial line).
    held: usize,
    max_event_bytes: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::new(8 * 1024 * 1024)
    }
}

impl SseDecoder {
    /// A decoder that fails once one event exceeds `max_event_bytes`.
    pub fn new(max_event_bytes: usize) -> Self {
        SseDecoder {
            buf: BytesMut::new(),
            scanned: 0,
            pending_cr: false,
            started: false,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
            held: 0,
            max_event_bytes,
        }
    }

    /// Feeds one chunk; returns the events it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        self.push_into(chunk, &mut events)?;
        Ok(events)
    }

    /// Like [`SseDecoder::push`], appending to `out`.
    pub fn push_into(&mut self, mut chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if self.pending_cr {
            if chunk.first() == Some(&b'\n') {
                chunk = &chunk[1..];
            }
            self.pending_cr = false;
        }
        self.buf.extend_from_slice(chunk);
        while let Some(end) = self.buf[self.scanned..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = self.scanned + end;
            self.scanned = 0;
            let terminator = self.buf[end];
            let line = self.buf.split_to(end);
            self.buf.advance(1);
            if terminator == b'\r' {
                if self.buf.first() == Some(&b'\n') {
                    self.buf.advance(1);
                } else if self.buf.is_empty() {
                    self.pending_cr = true;
                }
            }
            self.line(&line, out);
        }
        self.scanned = self.buf.len();
        if self.held + self.buf.len() > self.max_event_bytes {
            return Err(SseError::EventTooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }

    /// Ends the stream. Per the spec an unterminated last event is dropped;
    /// returns true when such a partial event (or partial line) was pending.
    pub fn finish(&mut self) -> bool {
        let partial = !self.buf.is_empty() || self.has_data || self.event.is_some();
        *self = SseDecoder::new(self.max_event_bytes);
        partial
    }

    fn line(&mut self, mut line: &[u8], out: &mut Vec<SseEvent>) {
        if !self.started {
            self.started = true;
            if line.starts_with("\u{feff}".as_bytes()) {
                line = &line[3..];
            }
        }
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data),
                    id: self.id.take(),
                });
            }
            self.event = None;
            self.has_data = false;
            self.held = 0;
            return;
        }
        if line[0] == b':' {
            return;
        }
        self.held += line.len();
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(value.into_owned()),
            b"id" => self.id = Some(value.into_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;

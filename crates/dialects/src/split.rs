//! A stream's bytes cut into whole events, each as it was sent: a
//! server-sent event up to and including the blank line that ends it, an
//! NDJSON line with its newline. Forwarding the pieces in order forwards the
//! stream byte for byte; what is held back is only an event not yet whole.
//!
//! Lines end in LF or CRLF (every provider's streams do); a bare CR is not
//! taken as a line end here (the decoders in [`crate::sse`] still read it).

use bytes::{Bytes, BytesMut};

use crate::Framing;

/// The splitter's state between chunks.
#[derive(Debug)]
pub struct EventSplit {
    framing: Framing,
    buf: BytesMut,
    /// Where the line being read starts in `buf`.
    line_start: usize,
    /// The bytes of `buf` already scanned for a line end.
    scanned: usize,
    max_event_bytes: usize,
}

/// One event grew past the cap without ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTooLarge {
    pub limit: usize,
}

impl std::fmt::Display for EventTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stream event larger than {} bytes", self.limit)
    }
}

impl std::error::Error for EventTooLarge {}

impl EventSplit {
    /// `framing` says how events end ([`Framing::Whole`]: the body is one
    /// event, given back by [`EventSplit::finish`]).
    pub fn new(framing: Framing, max_event_bytes: usize) -> Self {
        EventSplit {
            framing,
            buf: BytesMut::new(),
            line_start: 0,
            scanned: 0,
            max_event_bytes,
        }
    }

    /// Feeds one chunk; appends every event it completed, in order.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Bytes>) -> Result<(), EventTooLarge> {
        self.buf.extend_from_slice(chunk);
        if self.framing == Framing::Whole {
            return self.check();
        }
        while let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            let end = self.scanned + at;
            let line = &self.buf[self.line_start..end];
            let ends_event = match self.framing {
                Framing::Ndjson => true,
                // A blank line ends a server-sent event.
                _ => line.is_empty() || line == b"\r",
            };
            if ends_event {
                out.push(self.buf.split_to(end + 1).freeze());
                self.line_start = 0;
                self.scanned = 0;
            } else {
                self.line_start = end + 1;
                self.scanned = end + 1;
            }
        }
        self.scanned = self.buf.len();
        self.check()
    }

    /// The stream ended: the bytes of an event that never ended, if any.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.line_start = 0;
        self.scanned = 0;
        let rest = std::mem::take(&mut self.buf);
        (!rest.is_empty()).then(|| rest.freeze())
    }

    fn check(&self) -> Result<(), EventTooLarge> {
        if self.buf.len() > self.max_event_bytes {
            return Err(EventTooLarge {
                limit: self.max_event_bytes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! Cuts a `streamGenerateContent?alt=sse` body into JSON payloads.
//!
//! Chunks arrive as `data:` events (CRLF-framed), decoded by [`SseDecoder`].
//! Google can also abort a stream by writing its pretty-printed error object
//! straight into the body, outside any SSE framing; a line-by-line SSE reader
//! ignores those lines, so they are collected here and handed over once they
//! form a whole JSON value. Lines are split here and fed to the decoder one
//! at a time, which keeps the two kinds of payload in stream order.

use crate::sse::SseDecoder;

/// One payload of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Frame {
    /// The data of one SSE event.
    Data(String),
    /// JSON written outside SSE framing (an aborted stream's error).
    Bare(String),
}

/// A line (or one event) may not grow past this.
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
/// Bare JSON is an error envelope; anything longer is not one.
const MAX_BARE_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(super) struct Frames {
    line: Vec<u8>,
    sse: SseDecoder,
    bare: String,
    first_line: bool,
}

impl Default for Frames {
    fn default() -> Self {
        Frames {
            line: Vec::new(),
            sse: SseDecoder::new(MAX_LINE_BYTES),
            bare: String::new(),
            first_line: true,
        }
    }
}

impl Frames {
    /// Feeds one chunk; appends the payloads it completed. An error means the
    /// stream cannot be read further (a line or event past the size cap).
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Frame>) -> Result<(), String> {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.line.extend_from_slice(&rest[..end]);
            rest = &rest[end + 1..];
            self.end_line(out)?;
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_LINE_BYTES {
            return Err(format!(
                "Gemini stream line longer than {MAX_LINE_BYTES} bytes"
            ));
        }
        Ok(())
    }

    /// The body ended: a last line without its newline still counts, and an
    /// event without its closing blank line is dispatched (a cut-off event
    /// simply fails to parse as JSON later).
    pub fn finish(&mut self, out: &mut Vec<Frame>) -> Result<(), String> {
        if !self.line.is_empty() {
            self.end_line(out)?;
        }
        self.line.clear();
        self.decode(b"\n", out)
    }

    fn end_line(&mut self, out: &mut Vec<Frame>) -> Result<(), String> {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if std::mem::take(&mut self.first_line) && line.starts_with("\u{feff}".as_bytes()) {
            line.drain(..3);
        }
        if is_sse_line(&line) && (self.bare.is_empty() || line.starts_with(b"data")) {
            // A new event abandons unfinished bare text: it was not JSON.
            self.bare.clear();
            line.push(b'\n');
            return self.decode(&line, out);
        }
        self.bare_line(&line, out);
        Ok(())
    }

    fn decode(&mut self, line: &[u8], out: &mut Vec<Frame>) -> Result<(), String> {
        let events = self.sse.push(line).map_err(|e| e.to_string())?;
        out.extend(events.into_iter().map(|event| Frame::Data(event.data)));
        Ok(())
    }

    fn bare_line(&mut self, line: &[u8], out: &mut Vec<Frame>) {
        let text = String::from_utf8_lossy(line);
        if self.bare.len() + text.len() > MAX_BARE_BYTES {
            self.bare.clear();
            return;
        }
        self.bare.push_str(&text);
        self.bare.push('\n');
        let trimmed = text.trim_end();
        if (trimmed.ends_with('}') || trimmed.ends_with(']'))
            && serde_json::from_str::<serde_json::Value>(&self.bare).is_ok()
        {
            out.push(Frame::Bare(std::mem::take(&mut self.bare)));
        }
    }
}

/// An SSE line: blank, a comment, or one of the fields SSE defines. Anything
/// else (`{`, `  "error": {` …) is text outside the event framing.
fn is_sse_line(line: &[u8]) -> bool {
    if line.is_empty() || line[0] == b':' {
        return true;
    }
    let field = line
        .iter()
        .position(|&b| b == b':')
        .map_or(line, |colon| &line[..colon]);
    matches!(field, b"data" | b"event" | b"id" | b"retry")
}

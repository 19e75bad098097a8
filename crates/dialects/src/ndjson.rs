//! Incremental newline-delimited JSON splitter (Ollama's stream format).

use bytes::{Bytes, BytesMut};

/// Splits a byte stream into lines; blank lines are skipped. The JSON itself
/// is left to the caller.
#[derive(Debug)]
pub struct NdjsonDecoder {
    buf: BytesMut,
    /// The first bytes of `buf` known to hold no newline: a long line
    /// arriving in many chunks is scanned once, not once per chunk.
    scanned: usize,
    max_line_bytes: usize,
}

/// A line grew past the cap without a newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTooLong {
    pub limit: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NDJSON line longer than {} bytes", self.limit)
    }
}

impl std::error::Error for LineTooLong {}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        NdjsonDecoder::new(8 * 1024 * 1024)
    }
}

impl NdjsonDecoder {
    pub fn new(max_line_bytes: usize) -> Self {
        NdjsonDecoder {
            buf: BytesMut::new(),
            scanned: 0,
            max_line_bytes,
        }
    }

    /// Feeds a chunk; returns the complete lines it finished (without `\n` or `\r\n`).
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Bytes>, LineTooLong> {
        self.buf.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(end) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            let end = self.scanned + end;
            self.scanned = 0;
            let mut line = self.buf.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                lines.push(line.freeze());
            }
        }
        self.scanned = self.buf.len();
        if self.buf.len() > self.max_line_bytes {
            return Err(LineTooLong {
                limit: self.max_line_bytes,
            });
        }
        Ok(lines)
    }

    /// Ends the stream, returning a last line that had no newline.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.scanned = 0;
        let rest = std::mem::take(&mut self.buf);
        (!rest.iter().all(u8::is_ascii_whitespace)).then(|| rest.freeze())
    }
}

#[cfg(test)]
mod tests;

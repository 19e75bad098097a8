//! Replies and bytes loaded from fixture files under the testkit crate directory.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::reply::Reply;
use crate::sse::split_after;

/// Absolute path of `relative` (e.g. `fixtures/errors/openai_invalid_key.json`)
/// inside the testkit crate directory.
pub fn fixture_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The bytes of a fixture file. Panics if it cannot be read: the test setup is broken.
#[track_caller]
pub fn fixture_bytes(relative: &str) -> Bytes {
    let path = fixture_path(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Bytes::from(bytes),
        Err(e) => panic!("fixture {}: {e}", path.display()),
    }
}

impl Reply {
    /// `status` with a fixture file as the body; `path` is relative to the testkit
    /// crate directory.
    ///
    /// The extension picks the form: `.json` is sent whole as `application/json`;
    /// `.sse` is streamed as `text/event-stream`, one chunk per event (split after
    /// each blank line), and `.ndjson`/`.jsonl` as `application/x-ndjson`, one chunk
    /// per line, so `cut_after` and friends count events; anything else is sent
    /// whole as `application/octet-stream`.
    ///
    /// A sibling file with the same stem and the extension `.headers` (lines of
    /// `name: value`; blank lines and `#` comments ignored) adds response headers,
    /// and may override the `content-type`. Panics if either file is unreadable or
    /// malformed.
    #[track_caller]
    pub fn fixture(status: u16, path: &str) -> Reply {
        let body = fixture_bytes(path);
        let extension = Path::new(path).extension().and_then(|e| e.to_str());
        let mut reply = match extension {
            Some("json") => Reply::raw(status, "application/json", body),
            Some("sse") => Reply::chunks(status, "text/event-stream", split_sse(&body)),
            Some("ndjson" | "jsonl") => {
                Reply::chunks(status, "application/x-ndjson", split_after(&body, b"\n"))
            }
            _ => Reply::raw(status, "application/octet-stream", body),
        };
        let headers_file = fixture_path(path).with_extension("headers");
        if headers_file.is_file() {
            let text = match std::fs::read_to_string(&headers_file) {
                Ok(text) => text,
                Err(e) => panic!("fixture headers {}: {e}", headers_file.display()),
            };
            let headers = parse_headers(&text)
                .unwrap_or_else(|e| panic!("fixture headers {}: {e}", headers_file.display()));
            for (name, value) in headers {
                reply = reply.header(name, value);
            }
        }
        reply
    }
}

/// Events end at a blank line, written `\n\n` or `\r\n\r\n`.
fn split_sse(body: &Bytes) -> Vec<Bytes> {
    let delimiter: &[u8] = if body.windows(4).any(|w| w == b"\r\n\r\n") {
        b"\r\n\r\n"
    } else {
        b"\n\n"
    };
    split_after(body, delimiter)
}

/// Parses `name: value` lines, skipping blank lines and `#` comments.
fn parse_headers(text: &str) -> Result<Vec<(&str, &str)>, String> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(number, line)| match line.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value.trim())),
            _ => Err(format!("line {number} is not `name: value`: {line:?}")),
        })
        .collect()
}

#[cfg(test)]
mod tests;

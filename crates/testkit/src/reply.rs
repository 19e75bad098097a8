//! What the fake upstream answers to one request.

use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::sse::SseEvent;

/// One scripted answer to one request, built in builder style.
///
/// Constructors that take a status panic on an invalid code, and `header` panics on
/// an invalid name or value: such a reply means the test itself is wrong, and the
/// panic points at the test line that built it.
#[derive(Clone, Debug)]
pub struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

/// How the response (if any) is sent.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// The whole body at once, with a `content-length`.
    Full(Bytes),
    /// A chunked body, one chunk per item.
    Chunks(Chunks),
    /// Read the request, then close the connection without answering.
    Reset,
    /// Read the request, then never answer (until the upstream is dropped).
    Hang,
}

impl Body {
    fn kind(&self) -> &'static str {
        match self {
            Body::Full(_) => "whole-body",
            Body::Chunks(_) => "streamed",
            Body::Reset => "reset",
            Body::Hang => "hang",
        }
    }
}

/// A streamed body and the way it ends.
#[derive(Clone, Debug)]
pub(crate) struct Chunks {
    pub(crate) items: Vec<Bytes>,
    /// After `items`: this chunk, this many times, made as it is sent
    /// (a gigabyte costs one chunk of memory).
    pub(crate) repeat: Option<(Bytes, u64)>,
    pub(crate) ending: Ending,
    /// Pause before every chunk but the first.
    pub(crate) delay: Option<Duration>,
}

/// How a streamed body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// All chunks, then the terminating chunk: a clean end.
    Complete,
    /// The first n chunks, then the connection is aborted mid-body.
    CutAfter(usize),
    /// The first n chunks, then silence on an open connection.
    StallAfter(usize),
}

impl Reply {
    /// `status` with `body` serialised as `application/json`.
    #[track_caller]
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::raw(status, "application/json", body.to_string())
    }

    /// `status` with the given bytes and `content-type`, sent whole.
    #[track_caller]
    pub fn raw(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply::with_body(status, content_type, Body::Full(body.into()))
    }

    /// `status` with a chunked body: each item is written as its own chunk.
    /// `cut_after`, `stall_after` and `chunk_delay` count these chunks.
    #[track_caller]
    pub fn chunks<B: Into<Bytes>>(
        status: u16,
        content_type: &str,
        chunks: impl IntoIterator<Item = B>,
    ) -> Reply {
        let items = chunks.into_iter().map(Into::into).collect();
        let chunks = Chunks {
            items,
            repeat: None,
            ending: Ending::Complete,
            delay: None,
        };
        Reply::with_body(status, content_type, Body::Chunks(chunks))
    }

    /// A 200 `text/event-stream`, each event written as its own chunk.
    pub fn sse(events: impl IntoIterator<Item = SseEvent>) -> Reply {
        Reply::chunks(
            200,
            "text/event-stream",
            events.into_iter().map(|e| e.encode()),
        )
    }

    /// A 200 `application/x-ndjson`, one JSON value per line, each line its own chunk.
    pub fn ndjson(lines: impl IntoIterator<Item = serde_json::Value>) -> Reply {
        let chunks = lines.into_iter().map(|line| format!("{line}\n"));
        Reply::chunks(200, "application/x-ndjson", chunks)
    }

    /// The same whole reply sent chunked (no `content-length`), cut into `pieces`
    /// chunks of about equal size, so `cut_after` and `chunk_delay` apply to it.
    #[track_caller]
    pub fn in_chunks(self, pieces: usize) -> Reply {
        let Body::Full(bytes) = &self.body else {
            panic!(
                "Reply::in_chunks applies to whole-body replies only, not to a {} reply",
                self.body.kind()
            );
        };
        let size = bytes.len().div_ceil(pieces.max(1)).max(1);
        let items = (0..bytes.len())
            .step_by(size)
            .map(|start| bytes.slice(start..(start + size).min(bytes.len())))
            .collect();
        Reply {
            body: Body::Chunks(Chunks {
                items,
                repeat: None,
                ending: Ending::Complete,
                delay: None,
            }),
            ..self
        }
    }

    /// Read the request, then close the connection without any response: the client
    /// sees a connection error, not an HTTP status.
    pub fn reset() -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Body::Reset,
        }
    }

    /// Read the request, then never send response headers. The connection is only
    /// released when the [`FakeUpstream`](crate::FakeUpstream) is dropped.
    pub fn hang() -> Reply {
        Reply {
            body: Body::Hang,
            ..Reply::reset()
        }
    }

    /// Sets a response header, replacing any earlier value of the same name
    /// (including the `content-type` a constructor chose).
    #[track_caller]
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        let name = HeaderName::try_from(name)
            .unwrap_or_else(|e| panic!("Reply::header: bad header name {name:?}: {e}"));
        let value = HeaderValue::try_from(value)
            .unwrap_or_else(|e| panic!("Reply::header: bad value for {name}: {e}"));
        self.headers.insert(name, value);
        self
    }

    /// Replaces the status code (e.g. an SSE body on a non-200 status).
    #[track_caller]
    pub fn status(mut self, status: u16) -> Reply {
        self.status = status_code(status);
        self
    }

    /// Streamed replies only: send the first `n` chunks, then abort the connection
    /// mid-body, so the client sees an incomplete body rather than a clean end.
    #[track_caller]
    pub fn cut_after(mut self, n: usize) -> Reply {
        self.chunks_mut("cut_after").ending = Ending::CutAfter(n);
        self
    }

    /// Streamed replies only: send the first `n` chunks, then `chunk` (an
    /// error event, say), then end the body cleanly, as a provider that
    /// fails mid-answer does.
    #[track_caller]
    pub fn error_after(mut self, n: usize, chunk: impl Into<Bytes>) -> Reply {
        let chunks = self.chunks_mut("error_after");
        chunks.items.truncate(n);
        chunks.items.push(chunk.into());
        chunks.repeat = None;
        self
    }

    /// Streamed replies only: send the first `n` chunks, then send nothing more while
    /// keeping the connection open (for idle-read timeouts).
    #[track_caller]
    pub fn stall_after(mut self, n: usize) -> Reply {
        self.chunks_mut("stall_after").ending = Ending::StallAfter(n);
        self
    }

    /// Streamed replies only: after the listed chunks, send `chunk` `times`
    /// times more, each made as it is sent, so a test can stream a gigabyte
    /// (or, with `u64::MAX`, without end) without holding it. `cut_after`,
    /// `stall_after` and `chunk_delay` count these chunks too.
    #[track_caller]
    pub fn then_repeat(mut self, chunk: impl Into<Bytes>, times: u64) -> Reply {
        self.chunks_mut("then_repeat").repeat = Some((chunk.into(), times));
        self
    }

    /// Streamed replies only: wait `delay` (a tokio sleep, so a paused test clock
    /// applies) before each chunk after the first.
    #[track_caller]
    pub fn chunk_delay(mut self, delay: Duration) -> Reply {
        self.chunks_mut("chunk_delay").delay = Some(delay);
        self
    }

    #[track_caller]
    fn with_body(status: u16, content_type: &str, body: Body) -> Reply {
        Reply {
            status: status_code(status),
            headers: HeaderMap::new(),
            body,
        }
        .header(CONTENT_TYPE.as_str(), content_type)
    }

    #[track_caller]
    fn chunks_mut(&mut self, method: &str) -> &mut Chunks {
        match &mut self.body {
            Body::Chunks(chunks) => chunks,
            other => panic!(
                "Reply::{method} applies to streamed replies only, not to a {} reply",
                other.kind()
            ),
        }
    }
}

impl Default for Reply {
    /// 200 `{"ok":true}`: what a key without a script gets unless a fallback is set.
    fn default() -> Reply {
        Reply::json(200, serde_json::json!({"ok": true}))
    }
}

#[track_caller]
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or_else(|e| panic!("bad status code {status}: {e}"))
}

#[cfg(test)]
mod tests;

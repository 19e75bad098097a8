//! Reading an upstream body whole, within a size limit and its timeouts. The
//! one reader for error bodies, whole answers and anything a front needs whole.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::time::Instant;

use crate::transport::{describe, BodyStream};

/// How much of an unwanted body is drained so its connection can be reused.
const DRAIN_LIMIT: usize = 1024 * 1024;
/// How long draining may take.
const DRAIN_FOR: Duration = Duration::from_secs(2);

/// How a body may be read.
#[derive(Debug, Clone, Copy)]
pub struct ReadLimits {
    /// Stop reading beyond this many bytes.
    pub max_bytes: usize,
    /// Longest silence between two chunks.
    pub idle: Option<Duration>,
    /// The whole read ends by then.
    pub deadline: Option<Instant>,
}

/// What reading found.
pub enum Read {
    /// The body, complete.
    Whole(Bytes),
    /// More than `max_bytes`: what was read so far, and the rest unread.
    TooLarge { head: Bytes, rest: BodyStream },
    /// The connection broke before the end.
    Broken { partial: Bytes, reason: String },
    /// No byte for `idle`, or the deadline passed, before the end.
    Stalled { partial: Bytes, reason: String },
}

/// Reads `body` to its end, or until a limit says stop.
pub async fn read(mut body: BodyStream, limits: ReadLimits) -> Read {
    let mut got = Collected::default();
    loop {
        let next = body.next();
        let waited = match (limits.idle, limits.deadline) {
            (Some(idle), Some(deadline)) => {
                tokio::time::timeout_at(deadline.min(Instant::now() + idle), next).await
            }
            (Some(idle), None) => tokio::time::timeout(idle, next).await,
            (None, Some(deadline)) => tokio::time::timeout_at(deadline, next).await,
            (None, None) => Ok(next.await),
        };
        match waited {
            Ok(Some(Ok(chunk))) => {
                got.push(chunk);
                if got.len() > limits.max_bytes {
                    return Read::TooLarge {
                        head: got.freeze(),
                        rest: body,
                    };
                }
            }
            Ok(None) => return Read::Whole(got.freeze()),
            Ok(Some(Err(err))) => {
                return Read::Broken {
                    reason: format!(
                        "upstream body broke off after {} bytes: {}",
                        got.len(),
                        describe(&err)
                    ),
                    partial: got.freeze(),
                }
            }
            Err(_) => {
                return Read::Stalled {
                    reason: format!("upstream body stalled after {} bytes", got.len()),
                    partial: got.freeze(),
                }
            }
        }
    }
}

/// Chunks read so far. A body that arrives in one chunk (most do) is kept
/// as that chunk, without a copy.
#[derive(Default)]
struct Collected {
    first: Option<Bytes>,
    more: BytesMut,
}

impl Collected {
    fn push(&mut self, chunk: Bytes) {
        if self.first.is_none() && self.more.is_empty() {
            self.first = Some(chunk);
            return;
        }
        if let Some(first) = self.first.take() {
            self.more.extend_from_slice(&first);
        }
        self.more.extend_from_slice(&chunk);
    }

    fn len(&self) -> usize {
        self.first.as_ref().map_or(self.more.len(), Bytes::len)
    }

    fn freeze(self) -> Bytes {
        self.first.unwrap_or_else(|| self.more.freeze())
    }
}

/// Reads and drops up to 1 MiB (for two seconds at most), in the
/// background, so the connection goes back to the pool instead of being closed.
pub fn drain(mut rest: BodyStream) {
    tokio::spawn(async move {
        let mut seen = 0usize;
        let deadline = Instant::now() + DRAIN_FOR;
        while seen < DRAIN_LIMIT {
            match tokio::time::timeout_at(deadline, rest.next()).await {
                Ok(Some(Ok(chunk))) => seen += chunk.len(),
                _ => break,
            }
        }
    });
}

//! Holding a streamed response until its first event, so an error that
//! arrives inside an HTTP 200 stream can still fail over to another key.

use bytes::{Bytes, BytesMut};
use dialects::ndjson::NdjsonDecoder;
use dialects::sse::SseDecoder;
use futures_util::StreamExt;

use crate::dialect::Framing;
use crate::transport::BodyStream;

/// Largest first event keyrelay holds before giving up on the stream.
const HOLD_LIMIT: usize = 1024 * 1024;

pub enum Held {
    /// The first event arrived. `head` is every byte read so far (forwarded
    /// unchanged); `event`/`data` are the decoded first event.
    Event {
        head: Bytes,
        event: Option<String>,
        data: Bytes,
        rest: BodyStream,
    },
    /// The stream ended before any event.
    Ended,
    /// The connection broke (or the event was too large) before any event.
    Broken(String),
    TimedOut,
}

pub async fn hold(framing: Framing, mut rest: BodyStream, deadline: tokio::time::Instant) -> Held {
    let mut head = BytesMut::new();
    let mut sse = SseDecoder::new(HOLD_LIMIT);
    let mut ndjson = NdjsonDecoder::new(HOLD_LIMIT);
    loop {
        let chunk = match tokio::time::timeout_at(deadline, rest.next()).await {
            Err(_) => return Held::TimedOut,
            Ok(None) => {
                // NDJSON's last line may lack its newline.
                if framing == Framing::Ndjson {
                    if let Some(line) = ndjson.finish() {
                        return Held::Event {
                            head: head.freeze(),
                            event: None,
                            data: line,
                            rest,
                        };
                    }
                }
                return Held::Ended;
            }
            Ok(Some(Err(err))) => {
                return Held::Broken(format!(
                    "upstream stream broke before its first event: {err}"
                ))
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        head.extend_from_slice(&chunk);
        let first = match framing {
            Framing::Sse => match sse.push(&chunk) {
                Ok(events) => events
                    .into_iter()
                    .next()
                    .map(|e| (e.event, Bytes::from(e.data))),
                Err(err) => return Held::Broken(err.to_string()),
            },
            Framing::Ndjson | Framing::Whole => match ndjson.push(&chunk) {
                Ok(lines) => lines.into_iter().next().map(|line| (None, line)),
                Err(err) => return Held::Broken(err.to_string()),
            },
        };
        if let Some((event, data)) = first {
            return Held::Event {
                head: head.freeze(),
                event,
                data,
                rest,
            };
        }
    }
}

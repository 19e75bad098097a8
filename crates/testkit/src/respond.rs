//! Turns a [`Reply`] into what hyper sends, or into a dropped connection.

use std::io;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http::Response;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;

use crate::reply::{Body, Chunks, Ending, Reply};

/// The body type of every response the fake sends.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, io::Error>;

/// The response for `reply`. An `Err` makes hyper drop the connection unanswered;
/// a hanging reply never resolves (its connection task is aborted on shutdown).
pub(crate) async fn respond(reply: Reply) -> Result<Response<ResponseBody>, io::Error> {
    let body = match reply.body {
        Body::Full(bytes) => Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync(),
        Body::Chunks(chunks) => streamed(chunks),
        Body::Reset => return Err(io::Error::other("scripted reset: no response")),
        Body::Hang => std::future::pending().await,
    };
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    Ok(response)
}

/// Progress through a streamed body.
struct Cursor {
    items: std::vec::IntoIter<Bytes>,
    /// The generated tail: its chunk and how many are left to send.
    repeat: Option<(Bytes, u64)>,
    sent: usize,
    finished: bool,
}

impl Cursor {
    fn next_item(&mut self) -> Option<Bytes> {
        if let Some(item) = self.items.next() {
            return Some(item);
        }
        let (chunk, left) = self.repeat.as_mut()?;
        if *left == 0 {
            return None;
        }
        *left -= 1;
        Some(chunk.clone())
    }
}

/// A chunked body that sends `chunks.items` one frame each, then ends as scripted.
fn streamed(chunks: Chunks) -> ResponseBody {
    let Chunks {
        items,
        repeat,
        ending,
        delay,
    } = chunks;
    let limit = match ending {
        Ending::Complete => usize::MAX,
        Ending::CutAfter(n) | Ending::StallAfter(n) => n,
    };
    let cursor = Cursor {
        items: items.into_iter(),
        repeat,
        sent: 0,
        finished: false,
    };
    let frames = stream::unfold(cursor, move |mut cursor| async move {
        if cursor.finished {
            return None;
        }
        if cursor.sent < limit {
            if let Some(item) = cursor.next_item() {
                match delay {
                    Some(delay) if cursor.sent > 0 => tokio::time::sleep(delay).await,
                    _ => {}
                }
                cursor.sent += 1;
                return Some((Ok(Frame::data(item)), cursor));
            }
        }
        cursor.finished = true;
        match ending {
            Ending::Complete => None,
            Ending::CutAfter(_) => {
                // hyper discards its unflushed buffer when a body fails: yield once so
                // it flushes the chunks already written (a loopback socket takes
                // test-sized streams whole) before the abort.
                tokio::task::yield_now().await;
                Some((Err(io::Error::other("scripted cut mid-body")), cursor))
            }
            Ending::StallAfter(_) => std::future::pending().await,
        }
    });
    StreamBody::new(frames.boxed()).boxed_unsync()
}

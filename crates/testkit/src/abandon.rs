//! Counting replies the client went away from before they were complete:
//! how tests see that a gateway cancels its upstream request when its own
//! client disconnects.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::respond::ResponseBody;

/// One reply being made; counted as abandoned if dropped before it is done.
pub(crate) struct Unfinished {
    abandoned: Arc<AtomicUsize>,
    armed: AtomicBool,
}

impl Unfinished {
    pub(crate) fn new(abandoned: Arc<AtomicUsize>) -> Unfinished {
        Unfinished {
            abandoned,
            armed: AtomicBool::new(true),
        }
    }

    /// The reply ended as scripted (its last byte, or a scripted cut).
    pub(crate) fn done(&self) {
        self.armed.store(false, Ordering::SeqCst);
    }

    /// `body`, watched: it is done when it ends or fails as scripted.
    pub(crate) fn watch(self, body: ResponseBody) -> ResponseBody {
        ResponseBody::new(Watched { body, reply: self })
    }
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if self.armed.load(Ordering::SeqCst) {
            self.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct Watched {
    body: ResponseBody,
    reply: Unfinished,
}

impl Body for Watched {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None | Some(Err(_))) => self.reply.done(),
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => self.reply.done(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.body.is_end_stream();
        if end {
            self.reply.done();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

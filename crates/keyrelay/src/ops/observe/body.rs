//! The answer's body as it goes to the client: every chunk is noted (first
//! byte, usage, size), and the request's record is written when it ends,
//! breaks or the client goes away. For a virtual key near its budget, the
//! last bytes wait for the answer's spend to reach the store, so the next
//! request, on any replica, counts it.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::Pending;
use crate::team::WriteThrough;

pub(super) struct Observed {
    inner: Body,
    /// Taken when the record is written (end, error or drop).
    pending: Option<Pending>,
    /// The spend write the last frame waits for, and that frame (`None`
    /// when the body's end itself waits).
    writing: Option<(WriteThrough, Option<Frame<Bytes>>)>,
}

impl Observed {
    pub(super) fn new(inner: Body, pending: Pending) -> Observed {
        Observed {
            inner,
            pending: Some(pending),
            writing: None,
        }
    }

    fn finish(&mut self, ended: &'static str) -> Option<WriteThrough> {
        self.pending.take()?.write(ended)
    }

    /// Holds `last` (the final frame, or the end) until `write` is done.
    fn hold(
        &mut self,
        write: WriteThrough,
        last: Option<Frame<Bytes>>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.writing = Some((write, last));
        self.poll_writing(cx)
    }

    fn poll_writing(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let Some((write, _)) = self.writing.as_mut() else {
            return Poll::Ready(None);
        };
        ready!(write.as_mut().poll(cx));
        let last = self.writing.take().and_then(|(_, last)| last);
        Poll::Ready(last.map(Ok))
    }
}

impl HttpBody for Observed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.writing.is_some() {
            return self.poll_writing(cx);
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(pending), Some(data)) = (self.pending.as_mut(), frame.data_ref()) {
                    pending.saw(data);
                }
                // The server may stop polling once the body says it is done.
                if self.inner.is_end_stream() {
                    if let Some(write) = self.finish("complete") {
                        return self.hold(write, Some(frame), cx);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                // A broken answer is not held back.
                if let Some(write) = self.finish("broken") {
                    tokio::spawn(write);
                }
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => match self.finish("complete") {
                Some(write) => self.hold(write, None, cx),
                None => Poll::Ready(None),
            },
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        // An empty body ends before any poll: its record is written on drop,
        // which must then not read as the client going away.
        self.writing.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        // Dropped before its end: the client went away (or the server
        // stopped) — unless there was nothing left to send.
        let ended = if self.inner.is_end_stream() {
            "complete"
        } else {
            "client_gone"
        };
        let write = self
            .finish(ended)
            .or_else(|| self.writing.take().map(|(write, _)| write));
        if let (Some(write), Ok(runtime)) = (write, tokio::runtime::Handle::try_current()) {
            runtime.spawn(write);
        }
    }
}

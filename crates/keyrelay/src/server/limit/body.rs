//! A request body held to a pace (`server.body_read_timeout`, here `T`):
//! it may pause at most `T`, and must arrive whole within `T` plus `T` for
//! every MiB received. A stalled body or a trickle (a byte every few
//! seconds, which a pause limit alone never cuts) fails after about `T`,
//! while a large upload on a slow link lasts as long as it keeps about
//! 1 MiB per `T`. It fails with [`BodyTooSlow`], which the fronts answer
//! `408`; their handler then returns, so the request's slot is freed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::BoxError;
use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::BodyTooSlow;

/// The bytes that earn one more `T`: the slowest pace kept is 1 MiB per `T`.
const BYTES_PER_TIMEOUT: f64 = 1024.0 * 1024.0;

/// A request body that fails with [`BodyTooSlow`] when it falls behind.
pub struct TimedBody<B> {
    inner: B,
    timeout: Duration,
    started: Instant,
    /// When the last bytes came (the start, before any).
    last: Instant,
    received: u64,
    /// Armed on the first wait, moved as bytes come.
    timer: Option<Pin<Box<Sleep>>>,
    failed: bool,
}

impl<B> TimedBody<B> {
    /// `inner`, its clock starting now.
    pub fn new(inner: B, timeout: Duration) -> Self {
        let now = Instant::now();
        TimedBody {
            inner,
            timeout,
            started: now,
            last: now,
            received: 0,
            timer: None,
            failed: false,
        }
    }

    /// The earlier of: a pause of `T` since the last bytes, and the pace's
    /// allowance for what has come so far.
    fn deadline(&self) -> Instant {
        let mib = self.received as f64 / BYTES_PER_TIMEOUT;
        let allowance = self.timeout.saturating_add(self.timeout.mul_f64(mib));
        (self.started + allowance).min(self.last + self.timeout)
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.received += data.remaining() as u64;
                    self.last = Instant::now();
                }
                return Poll::Ready(Some(Ok(frame)));
            }
            Poll::Ready(other) => return Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {}
        }
        let deadline = self.deadline();
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                self.failed = true;
                let slow = BodyTooSlow {
                    timeout: self.timeout,
                };
                Poll::Ready(Some(Err(slow.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;

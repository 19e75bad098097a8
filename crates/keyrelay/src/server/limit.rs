//! What clients may take of the gateway (`[server]`): proxied requests in
//! flight, checked here; the pace of a request body ([`TimedBody`]),
//! applied by the front door; and what one connection may hold (header size
//! and count, time to send headers, idle time), applied by the accept loop
//! (`server::accept`).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::StatusCode;
use hyper::body::{Frame, SizeHint};
use tokio::sync::Semaphore;

use crate::config::{ServerConfig, Timeouts};
use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};

mod body;

pub use body::TimedBody;

/// The `[server]` limits, in the units the code uses.
#[derive(Debug, Clone, Copy)]
pub struct ClientLimits {
    /// Proxied requests at once, streams until their body ends.
    pub max_concurrent_requests: usize,
    /// Largest request head; at least 8192 (hyper's smallest read buffer).
    pub max_header_bytes: usize,
    /// Most headers in one HTTP/1 request.
    pub max_headers: usize,
    /// From a connection's start, or its previous response's end, to a
    /// request's complete head (HTTP/1).
    pub header_read_timeout: Duration,
    /// Longest a connection stays open with no request in flight.
    pub idle_timeout: Duration,
    /// Longest pause in a request body, and its pace (see [`TimedBody`]).
    pub body_read_timeout: Duration,
}

impl ClientLimits {
    pub fn of(server: &ServerConfig) -> ClientLimits {
        ClientLimits {
            max_concurrent_requests: server.max_concurrent_requests.max(1),
            max_header_bytes: server.max_header_bytes.max(8192),
            max_headers: server.max_headers.max(1),
            header_read_timeout: Timeouts::duration(server.header_read_timeout),
            idle_timeout: Timeouts::duration(server.idle_timeout),
            body_read_timeout: Timeouts::duration(server.body_read_timeout),
        }
    }
}

/// The slots proxied requests take, one each, for [`admit`]. Their number
/// is fixed at start; a reload keeps it.
#[derive(Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    max: usize,
}

impl Admission {
    pub fn new(limits: &ClientLimits) -> Admission {
        let max = limits.max_concurrent_requests;
        let slots = Arc::new(Semaphore::new(max));
        Admission { slots, max }
    }
}

impl Admission {
    /// A slot, if one is free. It is held by the handler and then by the
    /// response body, so a stream keeps it until it ends or the client goes
    /// away (either drops the body).
    pub fn admit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// The `503` when no slot is free, in the client's error `shape`.
    pub fn busy(&self, shape: Dialect) -> Response {
        busy(self.max, shape)
    }
}

fn busy(max: usize, shape: Dialect) -> Response {
    let mut error = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Overloaded,
        format!(
            "keyrelay is serving as many requests as it may at once ({max}, server.max_concurrent_requests); retry shortly"
        ),
    );
    error.retry_after = Some(1);
    error.in_shape(shape).into_response()
}

/// A response body that keeps `T` (a slot, a busy mark) until the body
/// ends or is dropped, whichever comes first.
pub struct Holding<B, T> {
    inner: B,
    held: Option<T>,
}

impl<B, T> Holding<B, T> {
    pub fn new(inner: B, held: T) -> Self {
        Holding {
            inner,
            held: Some(held),
        }
    }
}

impl<B, T> hyper::body::Body for Holding<B, T>
where
    B: hyper::body::Body + Unpin,
    T: Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.held = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests;

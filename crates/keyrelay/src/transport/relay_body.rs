//! Forwarding a response body after the decision: idle timeout per chunk, and
//! a clean ending in the client's framing when the upstream breaks mid-way.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};

/// How a forwarded stream ended, reported once at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    Complete,
    /// The upstream broke or went silent after content had gone out.
    Broken(String),
}

/// Yields `head`, then the rest. If the rest fails or is silent for `idle`,
/// yields `error_frame(reason)` and ends cleanly; when the framing has no
/// error frame (`None`), the body ends in an error so the client sees a cut. `on_end` runs exactly once
/// when the stream ends (also if the client goes away first).
pub fn relay_stream<F, E>(
    head: Bytes,
    rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    idle: Duration,
    error_frame: F,
    on_end: E,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static
where
    F: Fn(&str) -> Option<Bytes> + Send + 'static,
    E: FnOnce(StreamEnd) + Send + 'static,
{
    struct State<F, E: FnOnce(StreamEnd)> {
        head: Option<Bytes>,
        rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
        error_frame: F,
        on_end: Option<E>,
        done: bool,
    }
    impl<F, E: FnOnce(StreamEnd)> State<F, E> {
        fn end(&mut self, how: StreamEnd) {
            self.done = true;
            if let Some(on_end) = self.on_end.take() {
                on_end(how);
            }
        }
    }
    impl<F: Fn(&str) -> Option<Bytes>, E: FnOnce(StreamEnd)> State<F, E> {
        fn fail(mut self, reason: String) -> (Result<Bytes, std::io::Error>, Self) {
            let item =
                (self.error_frame)(&reason).ok_or_else(|| std::io::Error::other(reason.clone()));
            self.end(StreamEnd::Broken(reason));
            (item, self)
        }
    }
    impl<F, E: FnOnce(StreamEnd)> Drop for State<F, E> {
        fn drop(&mut self) {
            // The client went away mid-stream: not the key's fault.
            if let Some(on_end) = self.on_end.take() {
                on_end(StreamEnd::Complete);
            }
        }
    }
    let state = State {
        head: Some(head).filter(|h| !h.is_empty()),
        rest,
        error_frame,
        on_end: Some(on_end),
        done: false,
    };
    stream::unfold(state, move |mut state| async move {
        if state.done {
            return None;
        }
        if let Some(head) = state.head.take() {
            return Some((Ok(head), state));
        }
        match tokio::time::timeout(idle, state.rest.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), state)),
            Ok(None) => {
                state.end(StreamEnd::Complete);
                None
            }
            Ok(Some(Err(err))) => {
                let reason = format!("upstream stream broke: {}", err.without_url());
                Some(state.fail(reason))
            }
            Err(_) => {
                let reason = format!("upstream stream was silent for {}s", idle.as_secs_f64());
                Some(state.fail(reason))
            }
        }
    })
}

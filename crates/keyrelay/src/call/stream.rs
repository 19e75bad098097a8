//! The one stream loop: after the decision, a held stream goes to the client
//! chunk by chunk, forwarded as is or translated event by event (to
//! Anthropic events, or on through them to another client API), with an
//! idle timeout, pings while a translated upstream is silent, and a clean
//! ending in the client's own format when the upstream breaks off.

pub mod spliced;
mod watch;

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use dialects::anthropic::StreamEvent;
use dialects::{StreamEncode, StreamTranslate};
use futures_util::stream::{self, Stream, StreamExt};
use keypool::{Outcome, OutcomeClass};

use crate::dialect::{Dialect, Framing};
use crate::transport::{describe, BodyStream};
pub use watch::Watch;

/// A ping goes to a translated stream's client after this much silence.
const PING_EVERY: Duration = Duration::from_secs(10);

/// What happens to each chunk on its way to the client.
pub enum Step {
    /// Bytes go through unchanged; a late failure is written as `shape`'s
    /// error in `framing` (a plain document can only be cut off).
    Forward { shape: Dialect, framing: Framing },
    /// Provider bytes become hub (Anthropic) events, which `client` writes
    /// in the client's own API, pings included.
    Translate {
        translator: Box<dyn StreamTranslate>,
        client: Box<dyn StreamEncode>,
    },
}

impl Step {
    /// `events` is scratch space, kept across chunks so a translated stream
    /// does not allocate a list per chunk.
    fn chunk(&mut self, chunk: Bytes, events: &mut Vec<StreamEvent>) -> Option<Bytes> {
        match self {
            Step::Forward { .. } => Some(chunk).filter(|c| !c.is_empty()),
            Step::Translate { translator, client } => {
                events.clear();
                translator.push(&chunk, events);
                encode_for(client.as_mut(), events)
            }
        }
    }

    /// The stream's last bytes; `Err` when the client can only be told by a cut.
    fn finish(
        &mut self,
        failure: Option<&str>,
        events: &mut Vec<StreamEvent>,
    ) -> Result<Option<Bytes>, std::io::Error> {
        match self {
            Step::Forward { shape, framing } => match failure {
                None => Ok(None),
                Some(reason) => shape
                    .stream_error_frame(*framing, reason)
                    .map(Some)
                    .ok_or_else(|| std::io::Error::other(reason.to_owned())),
            },
            Step::Translate { translator, client } => {
                events.clear();
                translator.finish(failure, events);
                Ok(encode_for(client.as_mut(), events))
            }
        }
    }

    /// Whether the chunk just translated (its `events`) ended the client's
    /// stream: after `message_stop` or an `error` event nothing more goes
    /// out, so nothing more need come in.
    fn is_over(&self, events: &[StreamEvent]) -> bool {
        !matches!(self, Step::Forward { .. })
            && matches!(
                events.last(),
                Some(StreamEvent::MessageStop | StreamEvent::Error { .. })
            )
    }

    fn translates(&self) -> bool {
        matches!(self, Step::Translate { .. })
    }

    /// How long the client may wait without a byte; `None`: no pings.
    fn ping_every(&self) -> Option<Duration> {
        (!matches!(self, Step::Forward { .. })).then_some(PING_EVERY)
    }

    fn ping(&mut self) -> Option<Bytes> {
        match self {
            Step::Translate { translator, client } if translator.started() => Some(client.ping()),
            _ => None,
        }
    }
}

fn encode_for(client: &mut dyn StreamEncode, events: &[StreamEvent]) -> Option<Bytes> {
    let mut out = BytesMut::new();
    client.encode(events, &mut out);
    (!out.is_empty()).then(|| out.freeze())
}

/// How a stream ended, reported once at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    Complete,
    /// The upstream broke, went silent, or ended before its answer was
    /// complete, after content had gone out.
    Broken(String),
    /// The upstream sent an error event after content had gone out: what
    /// it said, classified.
    Failed(Outcome),
}

impl StreamEnd {
    /// The failure to count against the key; `None` for a complete stream.
    pub fn failure(&self) -> Option<Outcome> {
        match self {
            StreamEnd::Complete => None,
            StreamEnd::Broken(_) => {
                Some(Outcome::new(OutcomeClass::Transient).with_reason("stream_broken"))
            }
            StreamEnd::Failed(outcome) => Some(outcome.clone()),
        }
    }

    /// A line for the log.
    pub fn reason(&self) -> String {
        match self {
            StreamEnd::Complete => String::from("complete"),
            StreamEnd::Broken(reason) => reason.clone(),
            StreamEnd::Failed(outcome) => format!(
                "the upstream sent an error event ({})",
                outcome.reason.as_deref().unwrap_or(outcome.class.as_str())
            ),
        }
    }
}

/// `head` then `rest`, through `step`. A chunk-to-chunk silence of `idle`
/// ends the stream as broken. `on_end` runs exactly once: at the end, or
/// when the client goes away first (then as `Complete`: not the key's fault).
pub fn run(
    head: Bytes,
    rest: BodyStream,
    step: Step,
    idle: Duration,
    on_end: impl FnOnce(StreamEnd) + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    unfold(Loop::new(head, rest, step, idle, None, Box::new(on_end)))
}

/// [`run`], with `watch` reading the upstream's bytes for an error event,
/// so a stream that carries one ends as [`StreamEnd::Failed`].
pub fn run_watched(
    head: Bytes,
    rest: BodyStream,
    step: Step,
    idle: Duration,
    watch: Watch,
    on_end: impl FnOnce(StreamEnd) + Send + 'static,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    unfold(Loop::new(
        head,
        rest,
        step,
        idle,
        Some(watch),
        Box::new(on_end),
    ))
}

fn unfold(state: Loop) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
}

type OnEnd = Box<dyn FnOnce(StreamEnd) + Send>;

struct Loop {
    head: Option<Bytes>,
    rest: BodyStream,
    step: Step,
    /// Reads the upstream's bytes for an error event, when given.
    watch: Option<Watch>,
    /// Scratch space for the events one chunk translates to.
    events: Vec<StreamEvent>,
    idle: Duration,
    /// Silence so far, counted in ping intervals.
    silent: Duration,
    on_end: Option<OnEnd>,
    done: bool,
}

impl Loop {
    fn new(
        head: Bytes,
        rest: BodyStream,
        step: Step,
        idle: Duration,
        watch: Option<Watch>,
        on_end: OnEnd,
    ) -> Loop {
        Loop {
            head: Some(head),
            rest,
            step,
            watch,
            events: Vec::new(),
            idle,
            silent: Duration::ZERO,
            on_end: Some(on_end),
            done: false,
        }
    }

    /// One chunk of the upstream's body, on its way to the client.
    fn chunk(&mut self, chunk: Bytes) -> Option<Bytes> {
        if let Some(watch) = self.watch.as_mut() {
            watch.feed(&chunk);
        }
        self.step.chunk(chunk, &mut self.events)
    }

    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(head) = self.head.take() {
            let out = self.chunk(head);
            self.close_if_over();
            if let Some(bytes) = out {
                return Some(Ok(bytes));
            }
        }
        while !self.done {
            let wait = match self.step.ping_every() {
                Some(every) => every
                    .min(self.idle.saturating_sub(self.silent))
                    .max(Duration::from_millis(1)),
                None => self.idle,
            };
            let out = match tokio::time::timeout(wait, self.rest.next()).await {
                Ok(Some(Ok(chunk))) => {
                    self.silent = Duration::ZERO;
                    let out = self.chunk(chunk);
                    self.close_if_over();
                    out.map(Ok)
                }
                Ok(None) => self.end(None),
                Ok(Some(Err(err))) => {
                    self.end(Some(format!("upstream stream broke: {}", describe(&err))))
                }
                Err(_) => {
                    self.silent += wait;
                    if self.silent >= self.idle {
                        let secs = self.idle.as_secs_f64();
                        self.end(Some(format!("upstream stream was silent for {secs}s")))
                    } else {
                        self.step.ping().map(Ok)
                    }
                }
            };
            if out.is_some() {
                return out;
            }
        }
        None
    }

    /// Ends a translated stream whose last event went out, whatever the
    /// upstream still sends (an endless or oversized event, say). The rest
    /// is drained in the background (bounded), so a well-behaved upstream's
    /// connection, about to end anyway, goes back to the pool.
    fn close_if_over(&mut self) {
        if self.done || !self.step.is_over(&self.events) {
            return;
        }
        self.done = true;
        super::body::drain(std::mem::replace(&mut self.rest, stream::empty().boxed()));
        let end = self.verdict(None);
        if let Some(on_end) = self.on_end.take() {
            on_end(end);
        }
    }

    /// Ends the stream: its last bytes, if any.
    fn end(&mut self, failure: Option<String>) -> Option<Result<Bytes, std::io::Error>> {
        self.done = true;
        let last = self.step.finish(failure.as_deref(), &mut self.events);
        let end = self.verdict(failure);
        if let Some(on_end) = self.on_end.take() {
            on_end(end);
        }
        last.transpose()
    }

    /// How the stream ended, from the loop's own `failure` (a break or a
    /// silence), the error event the watch found, and the last event a
    /// translated client got (an `error` event: the upstream failed or ended
    /// before its answer was complete).
    fn verdict(&mut self, failure: Option<String>) -> StreamEnd {
        if let Some(reason) = failure {
            return StreamEnd::Broken(reason);
        }
        if let Some(outcome) = self.watch.as_mut().and_then(Watch::take) {
            return StreamEnd::Failed(outcome);
        }
        match self.events.last() {
            Some(StreamEvent::Error { error }) if self.step.translates() => {
                StreamEnd::Broken(error.message.clone())
            }
            _ => StreamEnd::Complete,
        }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(on_end) = self.on_end.take() {
            on_end(StreamEnd::Complete);
        }
    }
}

#[cfg(test)]
mod tests;

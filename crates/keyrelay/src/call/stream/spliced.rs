//! The stream loop when a stream that breaks may be continued
//! (`continue_streams`): every event is read into hub events as it passes
//! ([`Splice`] keeps what the client has), and when the upstream breaks off,
//! goes silent or sends an error another key could fix, the request goes
//! again — to the next key, then the fallback chain — with the answer so
//! far as the assistant's prefill, and the new stream joins the client's as
//! one answer.
//!
//! A forwarded stream keeps going out byte for byte (event by event) until
//! keyrelay must write events itself: a tool call to hold until whole, or a
//! continuation; from then on the client's encoder writes them. A break
//! nobody can continue ends the stream as it would without continuation.

mod next_leg;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use dialects::anthropic::{MessagesResponse, StopReason, StreamEvent, Usage};
use dialects::splice::{Cut, Splice};
use dialects::split::EventSplit;
use dialects::{StreamEncode, StreamTranslate};
use futures_util::stream::{self, Stream, StreamExt};
use keypool::{Fingerprint, Outcome, OutcomeClass};

use super::watch::Watch;
use super::PING_EVERY;
use crate::call::report::{ContinuationOutcome, LateAttempt, StreamReport};
use crate::call::resume::Continuation;
use crate::call::{Caller, HeldStream, Settlement};
use crate::dialect::{Dialect, Framing};
use crate::registry::Provider;
use crate::transport::{describe, BodyStream};

/// The largest event read (as the stream decoders cap them).
const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// Where the client's bytes come from.
pub enum Output {
    /// The upstream's own bytes, event by event; a failure is written as
    /// `shape`'s error in `framing`.
    Forward { shape: Dialect, framing: Framing },
    /// Hub events, written by the client's encoder.
    Encode(Box<dyn StreamEncode>),
}

/// One upstream stream serving the answer.
struct Leg {
    provider: Arc<Provider>,
    key: Fingerprint,
    head: Option<Bytes>,
    rest: BodyStream,
    split: EventSplit,
    translator: Box<dyn StreamTranslate>,
    watch: Watch,
    settle: Option<Settlement>,
}

impl Leg {
    fn new(
        provider: Arc<Provider>,
        key: Fingerprint,
        mut held: HeldStream,
        translator: Box<dyn StreamTranslate>,
    ) -> Leg {
        let watch = Watch::new(held.dialect, held.framing, *provider.pool.clock());
        Leg {
            split: EventSplit::new(held.framing, MAX_EVENT_BYTES),
            watch,
            settle: held.settle.take(),
            head: Some(held.head),
            rest: held.rest,
            translator,
            provider,
            key,
        }
    }
}

/// How a leg ended before the answer did.
struct Break {
    cut: Cut,
    /// The error event the upstream sent, classified, and its bytes.
    said: Option<(Outcome, Bytes)>,
    stalled: bool,
}

/// What the stream loop starts from.
pub struct Start {
    pub caller: Caller,
    pub continuation: Continuation,
    pub provider: Arc<Provider>,
    pub key: Fingerprint,
    pub held: HeldStream,
    /// Reads the first leg's stream into hub events.
    pub translator: Box<dyn StreamTranslate>,
    pub output: Output,
    pub report: Arc<StreamReport>,
}

struct Spliced {
    caller: Caller,
    continuation: Continuation,
    /// Continuations this request may still make.
    left: u32,
    report: Arc<StreamReport>,
    leg: Leg,
    splice: Splice,
    output: Output,
    silent: Duration,
    /// Bytes ready for the client.
    queue: VecDeque<Bytes>,
    /// A plain document cut off: the client is told by an error.
    cut_off: Option<String>,
    done: bool,
    /// Keys whose stream broke in this request, by provider.
    broke: Vec<(String, Fingerprint)>,
    raw: Vec<Bytes>,
    hub: Vec<StreamEvent>,
    out: Vec<StreamEvent>,
}

/// The client's stream (see the module docs).
pub fn run(start: Start) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let left = start.caller.max_continuations;
    let state = Spliced {
        leg: Leg::new(start.provider, start.key, start.held, start.translator),
        caller: start.caller,
        continuation: start.continuation,
        left,
        report: start.report,
        splice: Splice::new(true),
        output: start.output,
        silent: Duration::ZERO,
        queue: VecDeque::new(),
        cut_off: None,
        done: false,
        broke: Vec::new(),
        raw: Vec::new(),
        hub: Vec::new(),
        out: Vec::new(),
    };
    stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    })
}

impl Spliced {
    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        loop {
            if let Some(bytes) = self.queue.pop_front() {
                return Some(Ok(bytes));
            }
            if let Some(reason) = self.cut_off.take() {
                return Some(Err(std::io::Error::other(reason)));
            }
            if self.done {
                return None;
            }
            let broke = match self.leg.head.take() {
                Some(head) => self.chunk(&head),
                None => self.read().await,
            };
            if let Some(broke) = broke {
                self.broke(broke).await;
            }
        }
    }

    /// The next chunk of the current leg, within the idle timeout.
    async fn read(&mut self) -> Option<Break> {
        let idle = self.caller.idle;
        let wait = match &self.output {
            Output::Encode(_) => PING_EVERY
                .min(idle.saturating_sub(self.silent))
                .max(Duration::from_millis(1)),
            Output::Forward { .. } => idle.saturating_sub(self.silent),
        };
        match tokio::time::timeout(wait, self.leg.rest.next()).await {
            Ok(Some(Ok(chunk))) => {
                self.silent = Duration::ZERO;
                self.chunk(&chunk)
            }
            Ok(None) => self.leg_ends(None),
            Ok(Some(Err(err))) => {
                self.leg_ends(Some(format!("upstream stream broke: {}", describe(&err))))
            }
            Err(_) => {
                self.silent += wait;
                if self.silent >= idle {
                    let secs = idle.as_secs_f64();
                    let reason = format!("upstream stream was silent for {secs}s");
                    return self.leg_ends(Some(reason)).map(|broke| Break {
                        stalled: true,
                        ..broke
                    });
                }
                if let Some(ping) = self.ping() {
                    self.queue.push_back(ping);
                }
                None
            }
        }
    }

    fn ping(&self) -> Option<Bytes> {
        match &self.output {
            Output::Encode(encoder) if self.splice.started() => Some(encoder.ping()),
            _ => None,
        }
    }

    fn chunk(&mut self, chunk: &[u8]) -> Option<Break> {
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        if let Err(err) = self.leg.split.push(chunk, &mut raw) {
            self.raw = raw;
            return self.leg_ends(Some(err.to_string()));
        }
        let mut broke = None;
        for event in raw.drain(..) {
            broke = self.event(event);
            if broke.is_some() || self.done {
                break;
            }
        }
        raw.clear();
        self.raw = raw;
        broke
    }

    /// One whole event of the upstream's stream.
    fn event(&mut self, raw: Bytes) -> Option<Break> {
        let said = self.leg.watch.event(&raw);
        self.hub.clear();
        self.leg.translator.push(&raw, &mut self.hub);
        self.out.clear();
        if let Some(cut) = self.splice.push(&self.hub, &mut self.out) {
            return Some(Break {
                cut,
                said: said.map(|outcome| (outcome, raw)),
                stalled: false,
            });
        }
        self.emit(Some(raw));
        if self.splice.is_over() {
            self.complete();
        }
        None
    }

    /// The leg's body ended (`failure`: broke off or went silent).
    fn leg_ends(&mut self, failure: Option<String>) -> Option<Break> {
        // An event the leg never finished never went out.
        let _ = self.leg.split.finish();
        self.hub.clear();
        self.leg
            .translator
            .finish(failure.as_deref(), &mut self.hub);
        self.out.clear();
        if let Some(cut) = self.splice.push(&self.hub, &mut self.out) {
            return Some(Break {
                cut,
                said: None,
                stalled: false,
            });
        }
        self.emit(None);
        if self.splice.is_over() {
            self.complete();
            return None;
        }
        let message = "the upstream stream ended before the response was complete";
        Some(Break {
            cut: Cut {
                error: dialects::anthropic::ErrorBody {
                    kind: String::from("api_error"),
                    message: message.to_owned(),
                },
            },
            said: None,
            stalled: false,
        })
    }

    /// What the last event (`raw`, as the upstream sent it, if any) gave
    /// the client.
    fn emit(&mut self, raw: Option<Bytes>) {
        if matches!(self.output, Output::Forward { .. }) && self.splice.holding() {
            // A tool call is held until whole: from here keyrelay writes the events.
            self.encode_from_now();
        }
        match &mut self.output {
            Output::Forward { .. } => self.queue.extend(raw),
            Output::Encode(encoder) => {
                let mut bytes = BytesMut::new();
                encoder.encode(&self.out, &mut bytes);
                if !bytes.is_empty() {
                    self.queue.push_back(bytes.freeze());
                }
            }
        }
    }

    /// A forwarded stream's client gets events keyrelay writes from now on.
    fn encode_from_now(&mut self) -> bool {
        if matches!(self.output, Output::Encode(_)) {
            return true;
        }
        match self.continuation.resume.encoder() {
            Ok(encoder) => {
                self.output = Output::Encode(caught_up(encoder));
                true
            }
            Err(why) => {
                tracing::debug!(%why, "no stream writer for the client: the stream stays forwarded");
                false
            }
        }
    }

    /// The answer ended well.
    fn complete(&mut self) {
        self.done = true;
        crate::call::body::drain(std::mem::replace(
            &mut self.leg.rest,
            stream::empty().boxed(),
        ));
        if let Some(settle) = self.leg.settle.take() {
            settle.finish(Outcome::success());
        }
    }

    /// The leg broke: counted on its key, then continued if it can be,
    /// else the client's stream ends with the failure.
    async fn broke(&mut self, broke: Break) {
        let outcome = match &broke.said {
            Some((outcome, _)) => outcome.clone(),
            None => Outcome::new(OutcomeClass::Transient).with_reason(if broke.stalled {
                "stream_stalled"
            } else {
                "stream_broken"
            }),
        };
        let provider = self.leg.provider.clone();
        let key = self.leg.key.clone();
        tracing::warn!(provider = %provider.name(), key = %key, class = %outcome.class, reason = %broke.cut.error.message, "stream failed after content was sent");
        self.report.attempt(LateAttempt::Ended(outcome.class));
        match self.leg.settle.take() {
            Some(settle) => settle.finish_now(outcome.clone()).await,
            None => provider.pool.report_late(&key, &outcome).await,
        }
        self.broke.push((provider.name().to_owned(), key));
        crate::call::body::drain(std::mem::replace(
            &mut self.leg.rest,
            stream::empty().boxed(),
        ));
        match self.continue_after(&outcome).await {
            Ok(leg) => {
                self.report
                    .continuation(provider.name(), ContinuationOutcome::Continued);
                self.leg = leg;
                self.silent = Duration::ZERO;
                self.splice.next_leg();
            }
            Err(not) => {
                if let Some(not) = not {
                    tracing::info!(provider = %provider.name(), outcome = not.as_str(), "the broken stream was not continued");
                    self.report.continuation(provider.name(), not);
                }
                self.give_up(broke, outcome.class);
            }
        }
    }

    /// No leg continues the answer: the client's stream ends with the
    /// failure, as it would without continuation.
    fn give_up(&mut self, broke: Break, class: OutcomeClass) {
        self.report.failed(class);
        self.done = true;
        match &mut self.output {
            Output::Encode(encoder) => {
                self.out.clear();
                self.splice.fail(broke.cut.error, &mut self.out);
                let mut bytes = BytesMut::new();
                encoder.encode(&self.out, &mut bytes);
                if !bytes.is_empty() {
                    self.queue.push_back(bytes.freeze());
                }
            }
            Output::Forward { shape, framing } => match broke.said {
                // The provider's own error event, as it sent it.
                Some((_, raw)) => self.queue.push_back(raw),
                None => match shape.stream_error_frame(*framing, &broke.cut.error.message) {
                    Some(frame) => self.queue.push_back(frame),
                    None => self.cut_off = Some(broke.cut.error.message),
                },
            },
        }
    }
}

/// `encoder`, told the answer began (its client saw that already).
fn caught_up(mut encoder: Box<dyn StreamEncode>) -> Box<dyn StreamEncode> {
    let mut message = MessagesResponse::new(
        String::from("msg_continued"),
        String::new(),
        Vec::new(),
        StopReason::EndTurn,
        Usage::default(),
    );
    message.stop_reason = None;
    let mut discarded = BytesMut::new();
    encoder.encode(&[StreamEvent::MessageStart { message }], &mut discarded);
    encoder
}

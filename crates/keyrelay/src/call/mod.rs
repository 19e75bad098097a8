//! Running one client request against a provider, below every front:
//!
//! - the key pool's executor over attempts, each one HTTP exchange through
//!   the [`Transport`], its answer classified, error bodies scrubbed of keys;
//! - a non-streamed answer is read whole (bounded by
//!   `limits.max_response_bytes`) before it is classified, so a body that
//!   breaks off, or a 200 that carries an error object, still fails over;
//! - a streamed answer is held until its first event, then runs through the
//!   one stream loop ([`stream`]), forwarded or translated.
//!
//! - a request goes over its fallback chain ([`fallback::serve`]): target
//!   after target while the one before could not serve, each answer
//!   rendered by its [`Leg`], or keyrelay's own exhaustion error
//!   ([`exhausted`]); every response carries the `x-keyrelay-*` headers
//!   ([`trail`]).
//!
//! A front parses, routes, builds a [`Leg`] per target and hands them to
//! [`fallback::serve`].

mod attempt;
pub mod attempt_log;
pub mod body;
pub mod exhausted;
pub mod fallback;
mod first_event;
pub mod report;
pub mod resume;
pub mod settle;
pub mod stream;
pub mod trail;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, StatusCode};
use keypool::{
    ApiKey, AttemptReply, ExecuteOptions, Fingerprint, Finished, Outcome, OutcomeClass, Refused,
};

use crate::config::{Config, Timeouts};
use crate::dialect::{Dialect, Framing};
use crate::env::Env;
use crate::redact::redact_keys;
use crate::registry::Provider;
use crate::transport::{BodyStream, Outbound, Transport, TransportFailure};
pub use fallback::{serve, Leg, Target};
pub use report::StreamReport;
pub use resume::{Continuation, Resume, Resumed};
pub use settle::Settlement;
pub use stream::{Step, StreamEnd};
pub use trail::Trace;

/// Error bodies are read up to this size, for classification and forwarding.
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Runs requests over key pools; one per gateway (cloned into the streams
/// it serves).
#[derive(Clone)]
pub struct Caller {
    transport: Transport,
    /// Every attempt of one request together, waits included.
    request_timeout: Duration,
    /// Longest silence between two body chunks.
    idle: Duration,
    /// Reading an error body.
    error_body: Duration,
    max_wait: Duration,
    same_key_retries: u32,
    session_affinity: bool,
    /// Whole answers up to this size are read before the client sees them.
    max_response_bytes: usize,
    /// `[pool] continue_streams`, for providers that do not say.
    continue_streams: bool,
    /// Continuations one request may make.
    max_continuations: u32,
}

/// What the key pool weighs about a request beyond its bytes.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The model asked of the provider: keys cooling for that model alone
    /// are passed over, and a per-model limit is recorded under this name.
    pub model: Option<String>,
    /// The client's session: it keeps one key while that key can serve
    /// (unless `pool.session_affinity` is off).
    pub session: Option<String>,
    /// Keys this request already tried (a stream broke on them): not picked.
    pub exclude: Vec<Fingerprint>,
}

impl RequestFacts {
    pub fn for_model(model: impl Into<String>) -> Self {
        RequestFacts {
            model: Some(model.into()),
            session: None,
            exclude: Vec::new(),
        }
    }

    pub fn in_session(mut self, session: Option<String>) -> Self {
        self.session = session;
        self
    }
}

/// What a call ended with: an upstream answer (or failure) that settled it,
/// or the pool's refusal.
pub type CallResult = Result<Finished<Upstream>, Refused>;

/// Whether a call's result means this provider's pool could not serve the
/// request — it refused, the provider is down, or every attempt ended in a
/// class another key might have fixed — so another target may. A success or
/// a client error is the request's answer.
pub fn cannot_serve(result: &CallResult) -> bool {
    match result {
        Err(_) => true,
        Ok(finished) => finished.class == OutcomeClass::ProviderDown || finished.class.rotates(),
    }
}

/// What one attempt (and so one request) produced.
pub enum Upstream {
    Response(UpstreamResponse),
    /// No HTTP response: connection refused or reset, a body that broke off,
    /// or nothing in time.
    Failed {
        failure: TransportFailure,
        message: String,
    },
}

pub struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: UpstreamBody,
    pub framing: Framing,
    /// For an error inside a 2xx (an error event first in a stream, an
    /// error object as the whole body): the class its own words were
    /// given. The pool may settle the attempt as `provider_down` once other
    /// keys met the same; the client still learns what the provider said
    /// (a rate limit stays a 429).
    pub in_band: Option<OutcomeClass>,
}

pub enum UpstreamBody {
    /// Read whole: every error body (bounded) and every non-streamed answer
    /// within `max_response_bytes`.
    Full(Bytes),
    /// A stream past its first event, or a document too large to hold; goes
    /// to the client through [`Caller::stream`].
    Stream(HeldStream),
}

/// The bytes read so far and the rest, unread. Only the stream loop reads it.
pub struct HeldStream {
    head: Bytes,
    rest: BodyStream,
    /// How the upstream frames it, and whose events it carries.
    framing: Framing,
    dialect: Dialect,
    /// The attempt behind it, counted on its key when the stream ends.
    settle: Option<Settlement>,
}

impl HeldStream {
    fn new(head: Bytes, rest: BodyStream, framing: Framing, dialect: Dialect) -> HeldStream {
        HeldStream {
            head,
            rest,
            framing,
            dialect,
            settle: None,
        }
    }
}

impl Caller {
    /// `env` names the proxy, if any (see [`Transport::new`]).
    pub fn new(config: &Config, env: &dyn Env) -> Result<Caller, rustls::Error> {
        let timeouts = &config.timeouts;
        let transport = Transport::new(
            Timeouts::duration(timeouts.connect),
            Timeouts::duration(timeouts.first_byte),
            env,
        )?;
        Ok(Caller {
            transport,
            request_timeout: Timeouts::duration(timeouts.request),
            idle: Timeouts::duration(timeouts.idle),
            error_body: Timeouts::duration(timeouts.error_body),
            max_wait: Timeouts::duration(config.pool.max_wait),
            same_key_retries: config.pool.same_key_retries,
            session_affinity: config.pool.session_affinity,
            max_response_bytes: config.limits.max_response_bytes,
            continue_streams: config.pool.continue_streams,
            max_continuations: config.pool.max_continuations,
        })
    }

    /// Sends `outbound` with one pooled key after another until one answer
    /// settles it (see the key pool's executor). The result's log names
    /// every attempt with its HTTP status.
    pub async fn call(
        &self,
        provider: &Provider,
        outbound: &Outbound,
        facts: &RequestFacts,
    ) -> CallResult {
        let pool = &provider.pool;
        // About four bytes of JSON per token: an estimate for token budgets
        // until the answer reports its usage.
        let estimate = u64::try_from(outbound.body.len() / 4).unwrap_or(u64::MAX);
        let options = ExecuteOptions {
            tokens: estimate,
            deadline: Some(tokio::time::Instant::now() + self.request_timeout),
            max_wait: self.max_wait,
            same_key_retries: self.same_key_retries,
            model: facts.model.clone(),
            session: facts
                .session
                .as_deref()
                .filter(|_| self.session_affinity)
                .map(keypool::session_hash),
            exclude: facts.exclude.clone(),
            ..ExecuteOptions::default()
        };
        let result = pool
            .execute(&options, |attempt| async move {
                let (mut outcome, mut upstream) = self
                    .attempt(
                        outbound,
                        &attempt.key,
                        pool.clock().wall(),
                        attempt.deadline,
                    )
                    .await;
                // A per-model limit is kept under the name requests use, which
                // is how later requests for that model find it.
                if outcome.model.is_some() && facts.model.is_some() {
                    outcome.model.clone_from(&facts.model);
                }
                // Upstreams echo keys in error bodies, not always the one sent: strip them all.
                if outcome.class != OutcomeClass::Success {
                    if let Upstream::Response(response) = &mut upstream {
                        if let UpstreamBody::Full(body) = &mut response.body {
                            *body = redact_keys(body, pool.keys().map(ApiKey::expose));
                        }
                    }
                }
                let status = match &upstream {
                    Upstream::Response(response) => Some(response.status.as_u16()),
                    Upstream::Failed { .. } => None,
                };
                // A stream's success only opens it: counted when it ends.
                let open = matches!(
                    &upstream,
                    Upstream::Response(UpstreamResponse {
                        body: UpstreamBody::Stream(_),
                        ..
                    })
                );
                AttemptReply {
                    outcome,
                    value: upstream,
                    status,
                    open,
                }
            })
            .await;
        let mut result = result;
        if let Ok(finished) = &mut result {
            // Read before any await: a held stream is not `Sync`.
            if let Some(actual) = reported_tokens(provider, finished) {
                let key = finished.key.clone();
                provider.pool.report_tokens(&key, estimate, actual).await;
            }
            if let (
                OutcomeClass::Success,
                Upstream::Response(UpstreamResponse {
                    body: UpstreamBody::Stream(held),
                    ..
                }),
            ) = (finished.class, &mut finished.value)
            {
                held.settle = Some(Settlement::new(pool.clone(), finished.key.clone()));
            }
        }
        result
    }

    /// Whether a stream of `provider` that breaks is finished by the next key.
    pub fn continues_streams(&self, provider: &Provider) -> bool {
        provider
            .spec
            .continue_streams
            .unwrap_or(self.continue_streams)
    }

    /// A held stream's way to the client, through `step`, and the report
    /// of how it ended (for the response's observer). A stream that breaks
    /// after content went out, or carries an error event, counts against
    /// `key` as that failure; with `continuation` (and `continue_streams`
    /// on for `provider`) the next key is asked for the rest of it.
    pub fn stream(
        &self,
        provider: &Arc<Provider>,
        key: &Fingerprint,
        mut held: HeldStream,
        step: Step,
        continuation: Option<Continuation>,
    ) -> (
        impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
        Arc<StreamReport>,
    ) {
        let report = StreamReport::new();
        let continuation = continuation.filter(|c| {
            self.continues_streams(provider)
                && held.framing != Framing::Whole
                && c.resume.continues_from(c.at)
        });
        if let Some(continuation) = continuation {
            let (translator, output) = match step {
                Step::Forward { shape, framing } => {
                    let translator = provider
                        .spec
                        .dialect
                        .hub_translator()
                        .stream("", "msg_forwarded");
                    (
                        translator,
                        stream::spliced::Output::Forward { shape, framing },
                    )
                }
                Step::Translate { translator, client } => {
                    (translator, stream::spliced::Output::Encode(client))
                }
            };
            let start = stream::spliced::Start {
                caller: self.clone(),
                continuation,
                provider: provider.clone(),
                key: key.clone(),
                held,
                translator,
                output,
                report: report.clone(),
            };
            return (stream::spliced::run(start).left_stream(), report);
        }
        let watch = stream::Watch::new(held.dialect, held.framing, *provider.pool.clock());
        let on_end = end_reporter(provider, key, held.settle.take(), report.clone());
        let stream = stream::run_watched(held.head, held.rest, step, self.idle, watch, on_end);
        (stream.right_stream(), report)
    }
}

/// A fresh Anthropic-style message id (tool ids of a translated answer are
/// made from it).
pub fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("msg_{tail}")
}

/// The tokens a successful whole answer reports, when its pool keeps a
/// token budget (a stream keeps its estimate).
fn reported_tokens(provider: &Provider, finished: &Finished<Upstream>) -> Option<u64> {
    if finished.class != OutcomeClass::Success || !provider.pool.counts_tokens() {
        return None;
    }
    match &finished.value {
        Upstream::Response(UpstreamResponse {
            body: UpstreamBody::Full(body),
            ..
        }) => provider.spec.dialect.usage_tokens(body),
        _ => None,
    }
}

/// How a stream ended, told to its report and counted on its key: a stream
/// that broke after content went out, or carried an error event, as that
/// failure; one that ended well (or whose client went away) as a success.
fn end_reporter(
    provider: &Provider,
    key: &Fingerprint,
    settle: Option<Settlement>,
    report: Arc<StreamReport>,
) -> impl FnOnce(StreamEnd) + Send {
    let pool = provider.pool.clone();
    let key = key.clone();
    move |end| {
        let failure = end.failure();
        if let Some(outcome) = &failure {
            let reason = end.reason();
            tracing::warn!(provider = %pool.name(), key = %key, class = %outcome.class, %reason, "stream failed after content was sent");
            report.failed(outcome.class);
            report.attempt(report::LateAttempt::Ended(outcome.class));
        }
        match (settle, failure) {
            (Some(settle), failure) => settle.finish(failure.unwrap_or_else(Outcome::success)),
            (None, Some(outcome)) => {
                tokio::spawn(async move { pool.report_late(&key, &outcome).await });
            }
            (None, None) => {}
        }
    }
}

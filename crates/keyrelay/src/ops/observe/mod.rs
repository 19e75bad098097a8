//! Watching every proxied request from arrival to its last byte: one entry
//! in the request log (`/admin/requests`), one access log line, and the
//! Prometheus metrics — all from the same record, written when the response
//! ends (or the client goes away).
//!
//! The call layer leaves a [`Trace`] in the response's extensions (see
//! `call::trail::decorate`); the response body is wrapped to time its first byte,
//! read the token usage it reports, and see how it ended. Bodies are not
//! kept: usage is read from lines that mention it.

use std::sync::{Arc, OnceLock};

use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use keypool::{Fingerprint, OutcomeClass};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

mod body;
mod handles;
mod usage;

use body::Observed;
use handles::{Handles, HANDLES};
use usage::UsageScan;

use super::requests::{AttemptEntry, RequestLog, RequestRecord};
use super::Ops;
use crate::call::report::ContinuationOutcome;
use crate::call::Trace;
use crate::gateway::Gateway;
use crate::ops::trace::AnswerScan;
use crate::team::usage::{Estimated, Generation, Reported};
use crate::team::{Admitted, Answer, Charge, Grant, Held, Usage, WriteThrough};
use crate::telemetry::RequestSpan;

/// The metrics recorder, installed once per process.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            30.0, 60.0, 120.0, 300.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets(&seconds)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full("keyrelay_request_attempts".into()),
                    &[1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0],
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is in place (an embedding program's): render ours anyway.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// A request being timed: begun at the front door, finished with its
/// response, whose body then becomes an [`Observed`] body that writes the
/// record when it ends.
pub struct Watch {
    front: &'static str,
    started: Instant,
    at_ms: u64,
    method: String,
    path: String,
    /// The virtual key that sent it, once the front door knows.
    grant: Option<Arc<Grant>>,
    /// The declared request body size, for an estimate when the answer
    /// reports no usage.
    request_bytes: u64,
    /// Its span, when tracing is on.
    span: Option<RequestSpan>,
}

impl Watch {
    /// `front` names the client API (or `passthrough`, `models`, `other`).
    pub fn begin(ops: &Ops, front: &'static str, request: &Request) -> Watch {
        // Installed before the first request is counted.
        metrics_handle();
        let request_bytes = request
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Watch {
            front,
            started: Instant::now(),
            at_ms: ops.clock.now_ms(),
            method: bounded(request.method().as_str(), MAX_METHOD_LEN),
            // Never the query: a Gemini client may carry its key there.
            path: bounded(request.uri().path(), MAX_PATH_LEN),
            grant: None,
            request_bytes,
            span: ops.live.telemetry().map(|t| t.begin(request.headers())),
        }
    }

    /// The request's span, when tracing is on.
    pub fn span(&self) -> Option<&RequestSpan> {
        self.span.as_ref()
    }

    /// The request was sent with this virtual key: it is in flight until
    /// its record is written.
    pub fn by(&mut self, grant: Arc<Grant>) {
        grant.meter.started();
        self.grant = Some(grant);
    }

    /// Wraps the response's body; the record is written when it ends.
    /// `gateway` (the one that served the request) prices its answer.
    pub fn finish(
        self,
        requests: Arc<RequestLog>,
        response: Response,
        gateway: Arc<Gateway>,
    ) -> Response {
        let head = self.started.elapsed();
        let (mut parts, body) = response.into_parts();
        let trace = parts.extensions.remove::<Trace>();
        let admitted = parts.extensions.remove::<Held>().and_then(Held::take);
        let reported = parts.extensions.remove::<Reported>();
        let generation = parts.extensions.remove::<Generation>().is_some();
        let estimate = parts.extensions.remove::<Estimated>().map(|e| e.0);
        let streamed = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream") || t.contains("ndjson"));
        let pending = Pending {
            requests,
            front: self.front,
            method: self.method,
            path: self.path,
            at_ms: self.at_ms,
            status: parts.status.as_u16(),
            started: self.started,
            head,
            trace,
            streamed,
            first_byte: None,
            usage: UsageScan::default(),
            bytes_out: 0,
            grant: self.grant,
            gateway,
            request_bytes: self.request_bytes,
            admitted,
            reported,
            generation,
            estimate,
            answer: self
                .span
                .as_ref()
                .filter(|s| s.sampled())
                .map(|_| Box::default()),
            span: self.span,
        };
        let body = Body::new(Observed::new(body, pending));
        Response::from_parts(parts, body)
    }
}

/// What is known of a request while its body is on its way.
pub(super) struct Pending {
    requests: Arc<RequestLog>,
    front: &'static str,
    method: String,
    path: String,
    at_ms: u64,
    status: u16,
    started: Instant,
    head: std::time::Duration,
    trace: Option<Trace>,
    streamed: bool,
    first_byte: Option<std::time::Duration>,
    usage: UsageScan,
    bytes_out: u64,
    grant: Option<Arc<Grant>>,
    /// The gateway that served it: its prices and team.
    gateway: Arc<Gateway>,
    request_bytes: u64,
    /// The virtual key's hold on its budgets, settled with the answer.
    admitted: Option<Admitted>,
    /// Usage the hub reported, for an answer translated for its client.
    reported: Option<Reported>,
    /// An answer the client asked to be generated (charged an estimate
    /// when it reports no usage).
    generation: bool,
    /// The front's estimate for an answer that reports no usage.
    estimate: Option<Usage>,
    span: Option<RequestSpan>,
    /// What the answer says of its model and end, for a sampled span.
    answer: Option<Box<AnswerScan>>,
}

impl Pending {
    /// Notes a chunk of the answer on its way to the client.
    fn saw(&mut self, data: &Bytes) {
        if self.first_byte.is_none() && !data.is_empty() {
            self.first_byte = Some(self.started.elapsed());
        }
        self.bytes_out += data.len() as u64;
        if self.reported.is_none() && self.estimate.is_none() {
            self.usage.feed(data);
        }
        if let Some(answer) = &mut self.answer {
            answer.feed(data);
        }
    }

    /// Writes the record; for a key near its budget, returns the spend
    /// write to finish before the answer's last bytes go out.
    fn write(mut self, ended: &'static str) -> Option<WriteThrough> {
        let duration = self.started.elapsed();
        let mut trace = self.trace.take();
        // A stream tells how it ended after its head: a failure, attempts made later.
        let mut continuations = Vec::new();
        let failure = trace.as_mut().and_then(|trace| {
            let mut late = trace.late.take()?.read();
            late.amend(&mut trace.attempts);
            continuations = std::mem::take(&mut late.continuations);
            late.failure
        });
        let ended = match (ended, failure) {
            ("complete", Some(_)) => "failed",
            (ended, _) => ended,
        };
        let (charge, write) = self.charge(trace.as_ref());
        if let Some(grant) = &self.grant {
            grant.meter.ended();
        }
        let usage = charge.map(|c| c.usage);
        let attempts: Vec<AttemptEntry> = trace
            .iter()
            .flat_map(|t| t.attempts.iter())
            .map(|(provider, record)| AttemptEntry {
                provider: provider.clone(),
                key: record.key.as_str().to_owned(),
                class: record.class.as_str(),
                status: record.status,
                retry_after_s: record.retry_after.map(|d| d.as_secs()),
                upstream_ms: Some(millis(record.elapsed)),
            })
            .collect();
        let record = RequestRecord {
            at_ms: self.at_ms,
            front: self.front,
            method: self.method,
            path: self.path,
            provider: trace.as_ref().map(|t| t.provider.clone()),
            model: trace.as_ref().and_then(|t| t.model.clone()),
            status: self.status,
            duration_ms: millis(duration),
            head_ms: millis(self.head),
            input_tokens: usage.map(|u| u.input),
            output_tokens: usage.map(|u| u.output),
            cache_read_tokens: usage.map(|u| u.cache_read),
            cache_write_tokens: usage.map(|u| u.cache_write),
            virtual_key: self.grant.as_ref().map(|g| g.name.clone()),
            virtual_key_id: self.grant.as_ref().map(|g| g.id.clone()),
            team: self.grant.as_ref().and_then(|g| g.team.clone()),
            cost_usd: charge.and_then(|c| c.nanos).map(|n| n as f64 / 1e9),
            cost: charge.map(|c| match (c.estimated, c.nanos) {
                (true, _) => "estimated",
                (false, Some(_)) => "priced",
                (false, None) => "unpriced",
            }),
            fallback: trace.as_ref().map_or(0, |t| t.fallback),
            attempts,
            ended,
            failure: failure.map(OutcomeClass::as_str),
        };
        record_metrics(
            &record,
            Late {
                failure,
                continuations: &continuations,
            },
            trace.as_ref(),
            self.head,
            self.first_byte.filter(|_| self.streamed),
        );
        access_log(&record, trace.as_ref());
        if let Some(span) = self.span.take() {
            if let Some(answer) = &mut self.answer {
                answer.finish();
            }
            let finished = crate::ops::trace::Finished {
                record: &record,
                trace: trace.as_ref(),
                first_byte: self.first_byte.filter(|_| self.streamed),
                answer: self.answer.as_deref(),
            };
            crate::ops::trace::export(span, &finished);
        }
        self.requests.push(record);
        write
    }

    /// Books the answer against its virtual key and in spend: the usage the
    /// hub or the answer reported, else (a 2xx that reported none, such as
    /// a stream the client left early) an estimate of four bytes a token.
    fn charge(&mut self, trace: Option<&Trace>) -> (Option<Charge>, Option<WriteThrough>) {
        let success = (200..300).contains(&self.status);
        let reported = match (&self.reported, self.estimate) {
            (Some(reported), _) => reported.get(),
            // The front knows the answer reports nothing.
            (None, Some(_)) => None,
            (None, None) => self.usage.finish(),
        };
        // A stream whose events carried no counts reported nothing.
        let reported = reported.filter(|u| u.total() > 0);
        let estimated =
            success && reported.is_none() && (self.generation || self.estimate.is_some());
        let usage = reported.or_else(|| {
            estimated.then(|| {
                self.estimate.unwrap_or(Usage {
                    input: self.request_bytes / 4,
                    output: self.bytes_out / 4,
                    ..Usage::default()
                })
            })
        });
        let model = trace.and_then(|t| t.model.as_deref());
        self.gateway.team.settle(Answer {
            grant: self.grant.as_ref(),
            admitted: self.admitted.take(),
            prices: &self.gateway.prices,
            provider: trace.map(|t| t.provider.as_str()),
            model,
            provider_key: trace.and_then(|t| t.key.as_ref()).map(Fingerprint::id),
            success: success && usage.is_some(),
            usage,
            estimated,
        })
    }
}

fn access_log(record: &RequestRecord, trace: Option<&Trace>) {
    // Formatted only when the access log is on.
    let attempt_log = AttemptLog(&record.attempts);
    tracing::info!(
        target: "keyrelay::access",
        front = record.front,
        method = %record.method,
        path = %record.path,
        provider = record.provider.as_deref().unwrap_or("-"),
        model = record.model.as_deref().unwrap_or("-"),
        key = trace.and_then(|t| t.key.as_ref()).map_or("-", Fingerprint::as_str),
        virtual_key = record.virtual_key.as_deref().unwrap_or("-"),
        status = record.status,
        duration_ms = record.duration_ms,
        head_ms = record.head_ms,
        input_tokens = record.input_tokens,
        output_tokens = record.output_tokens,
        cache_read_tokens = record.cache_read_tokens,
        cache_write_tokens = record.cache_write_tokens,
        cost_usd = record.cost_usd,
        fallback = record.fallback,
        attempts = record.attempts.len(),
        attempt_log = %attempt_log,
        ended = record.ended,
        failure = record.failure.unwrap_or("-"),
        "request"
    );
}

/// The attempts as `provider:key=class/status, …`.
struct AttemptLog<'a>(&'a [AttemptEntry]);

impl std::fmt::Display for AttemptLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, a) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}:{}={}/", a.provider, a.key, a.class)?;
            match a.status {
                Some(status) => write!(f, "{status}")?,
                None => f.write_str("-")?,
            }
        }
        Ok(())
    }
}

/// What a stream told after its head.
struct Late<'a> {
    failure: Option<OutcomeClass>,
    continuations: &'a [(String, ContinuationOutcome)],
}

fn record_metrics(
    record: &RequestRecord,
    late: Late<'_>,
    trace: Option<&Trace>,
    head: std::time::Duration,
    first_byte: Option<std::time::Duration>,
) {
    HANDLES.with_borrow_mut(|handles| {
        let Handles { fronts, providers } = handles;
        let served_by = record.provider.as_deref().unwrap_or("-");
        let serving = Handles::provider_in(providers, served_by);
        serving.requests(record.front, record.status).increment(1);
        if let Some(class) = late.failure {
            serving.stream_failure(record.front, class).increment(1);
        }
        for (provider, outcome) in late.continuations {
            Handles::provider_in(providers, provider)
                .continuation(*outcome)
                .increment(1);
        }
        let Some(trace) = trace else {
            return;
        };
        let front = Handles::front_in(fronts, record.front);
        front.attempts.record(trace.attempts.len() as f64);
        let mut upstream = std::time::Duration::ZERO;
        let last = trace.attempts.len().saturating_sub(1);
        for (n, (provider, attempt)) in trace.attempts.iter().enumerate() {
            upstream += attempt.elapsed;
            let handles = Handles::provider_in(providers, provider);
            handles.upstream.record(attempt.elapsed.as_secs_f64());
            if n < last && attempt.class != OutcomeClass::Success {
                handles.rotations(attempt.class).increment(1);
            }
        }
        // Time spent in keyrelay itself until the response head: routing,
        // translation, key choice, waits between attempts.
        front
            .overhead
            .record(head.saturating_sub(upstream).as_secs_f64());
        let serving = Handles::provider_in(providers, served_by);
        if let Some(first_byte) = first_byte {
            serving.first_byte.record(first_byte.as_secs_f64());
        }
        if let Some(key) = &trace.key {
            let [input, output] = serving.tokens(key.id());
            if let Some(tokens) = record.input_tokens {
                input.increment(tokens);
            }
            if let Some(tokens) = record.output_tokens {
                output.increment(tokens);
            }
        }
    });
}

/// The longest path and method a record keeps: a client chooses both, and
/// the request log holds a thousand records.
const MAX_PATH_LEN: usize = 512;
const MAX_METHOD_LEN: usize = 32;

/// `text`, cut to at most `max` bytes (on a character boundary, marked `…`).
fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

//! Watching every proxied request from arrival to its last byte: one entry
//! in the request log (`/admin/requests`), one access log line, and the
//! Prometheus metrics — all from the same record, written when the response
//! ends (or the client goes away).
//!
//! The call layer leaves a [`Trace`] in the response's extensions (see
//! `call::trail::decorate`); the response body is wrapped to time its first byte,
//! read the token usage it reports, and see how it ended. Bodies are not
//! kept: usage is read from lines that mention it.

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use keypool::{Fingerprint, OutcomeClass};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

mod handles;
mod usage;

use handles::{Handles, HANDLES};
use usage::UsageScan;

use super::requests::{AttemptEntry, RequestLog, RequestRecord};
use super::Ops;
use crate::call::report::ContinuationOutcome;
use crate::call::Trace;

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
}

impl Watch {
    /// `front` names the client API (or `passthrough`, `models`, `other`).
    pub fn begin(ops: &Ops, front: &'static str, request: &Request) -> Watch {
        // Installed before the first request is counted.
        metrics_handle();
        Watch {
            front,
            started: Instant::now(),
            at_ms: ops.clock.now_ms(),
            method: bounded(request.method().as_str(), MAX_METHOD_LEN),
            // Never the query: a Gemini client may carry its key there.
            path: bounded(request.uri().path(), MAX_PATH_LEN),
        }
    }

    pub fn finish(self, requests: Arc<RequestLog>, response: Response) -> Response {
        let head = self.started.elapsed();
        let (mut parts, body) = response.into_parts();
        let trace = parts.extensions.remove::<Trace>();
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
        };
        let body = Body::new(Observed {
            inner: body,
            pending: Some(pending),
        });
        Response::from_parts(parts, body)
    }
}

/// What is known of a request while its body is on its way.
struct Pending {
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
}

struct Observed {
    inner: Body,
    /// Taken when the record is written (end, error or drop).
    pending: Option<Pending>,
}

impl HttpBody for Observed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(pending), Some(data)) = (self.pending.as_mut(), frame.data_ref()) {
                    if pending.first_byte.is_none() && !data.is_empty() {
                        pending.first_byte = Some(pending.started.elapsed());
                    }
                    pending.usage.feed(data);
                }
                // The server may stop polling once the body says it is done.
                if self.inner.is_end_stream() {
                    self.finish("complete");
                }
            }
            Poll::Ready(Some(Err(_))) => self.finish("broken"),
            Poll::Ready(None) => self.finish("complete"),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        // An empty body ends before any poll: its record is written on drop,
        // which must then not read as the client going away.
        self.inner.is_end_stream()
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
        self.finish(ended);
    }
}

impl Observed {
    fn finish(&mut self, ended: &'static str) {
        if let Some(pending) = self.pending.take() {
            pending.write(ended);
        }
    }
}

impl Pending {
    fn write(mut self, ended: &'static str) {
        let duration = self.started.elapsed();
        let (input_tokens, output_tokens) = self.usage.finish();
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
            input_tokens,
            output_tokens,
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
        self.requests.push(record);
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
        status = record.status,
        duration_ms = record.duration_ms,
        head_ms = record.head_ms,
        input_tokens = record.input_tokens,
        output_tokens = record.output_tokens,
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

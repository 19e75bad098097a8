//! OpenTelemetry traces, off by default: a span per request (opened at the
//! front door, a child of the client's `traceparent` when it sends a valid
//! one) and a span per attempt, exported over OTLP/HTTP in batches
//! ([`export`]). The spans themselves are written when the request ends
//! (`ops::trace`), from the request log's record; this room keeps what the
//! layers below need while the request runs: the trace context, and for
//! each attempt its span id (sent upstream as `traceparent`) and start.
//!
//! When tracing is off there is no [`Telemetry`], so nothing here runs: no
//! span, no id, no allocation, and the transport finds no scope.

mod export;
mod otlp;
mod sampler;
pub mod settings;
pub mod span;
mod w3c;

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use http::{HeaderMap, HeaderName, HeaderValue};

pub use sampler::Sampler;
pub use settings::{Export, TelemetrySettings};
pub use span::SpanData;
pub use w3c::{to_hex, TraceParent};

use crate::env::Env;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// Tracing switched on: the sampler and the exporter's queue. One per
/// running gateway, kept across reloads.
pub struct Telemetry {
    sampler: Sampler,
    exporter: export::Exporter,
}

impl Telemetry {
    /// Tracing as `settings` and the `OTEL_*` variables in `env` configure
    /// it: `Ok(None)` when off. Starts the export task, so it needs a tokio
    /// runtime.
    pub fn start(
        settings: &TelemetrySettings,
        env: &dyn Env,
    ) -> Result<Option<Arc<Telemetry>>, String> {
        let Some(export) = settings.resolve(env)? else {
            return Ok(None);
        };
        let exporter = export::Exporter::start(&export)?;
        tracing::info!(endpoint = %settings::shown(&export.url), service = %export.service_name, sampler = ?export.sampler, "tracing on: spans go to the OTLP collector");
        Ok(Some(Arc::new(Telemetry {
            sampler: export.sampler,
            exporter,
        })))
    }

    /// The span of a request arriving with `headers`: a child of the
    /// client's `traceparent` when valid, else the root of a new trace.
    pub fn begin(self: &Arc<Self>, headers: &HeaderMap) -> RequestSpan {
        let parent = headers
            .get(TRACEPARENT)
            .and_then(|v| TraceParent::parse(v.as_bytes()));
        let trace_id = parent.map_or_else(random_trace_id, |p| p.trace_id);
        let sampled = self.sampler.samples(&trace_id, parent.map(|p| p.sampled));
        // A trace state belongs to its trace: only with the client's parent.
        let tracestate = parent
            .and(headers.get(TRACESTATE))
            .and_then(w3c::tracestate);
        RequestSpan {
            telemetry: self.clone(),
            parent: parent.map(|p| p.span_id),
            start: SystemTime::now(),
            scope: Arc::new(Scope {
                context: TraceParent {
                    trace_id,
                    span_id: random_span_id(),
                    sampled,
                },
                tracestate,
                attempts: Mutex::new(Attempts::default()),
            }),
        }
    }

    /// Exports every span queued so far; returns once that export is done.
    pub async fn flush(&self) {
        self.exporter.flush().await;
    }

    /// Spans dropped so far: the queue was full or the collector failed.
    pub fn dropped(&self) -> u64 {
        self.exporter.dropped()
    }
}

/// A request's span while the request runs.
pub struct RequestSpan {
    telemetry: Arc<Telemetry>,
    /// The client's span, from its `traceparent`.
    parent: Option<[u8; 8]>,
    start: SystemTime,
    scope: Arc<Scope>,
}

/// What the layers below the front door reach through [`within`].
struct Scope {
    context: TraceParent,
    tracestate: Option<HeaderValue>,
    attempts: Mutex<Attempts>,
}

#[derive(Default)]
struct Attempts {
    /// The fallback target being called now, and its upstream model.
    target: (usize, Option<String>),
    started: Vec<AttemptMark>,
}

/// One attempt as the transport started it.
#[derive(Debug, Clone)]
pub struct AttemptMark {
    pub span_id: [u8; 8],
    pub start: SystemTime,
    /// The key it was sent with, by fingerprint (pairs the mark with the
    /// pool's record of the attempt).
    pub key: String,
    /// 0 for the route's own provider, N for the N-th fallback target.
    pub fallback: usize,
    pub model: Option<String>,
}

/// Everything a finished request's spans are built from, besides what the
/// request log records.
pub struct Ended {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    pub trace_state: Option<String>,
    pub start: SystemTime,
    pub attempts: Vec<AttemptMark>,
}

impl RequestSpan {
    /// Whether the sampler chose this request: only then are spans built.
    pub fn sampled(&self) -> bool {
        self.scope.context.sampled
    }

    /// The span's ids and the attempts' marks, to build the spans from.
    pub fn end(&self) -> Ended {
        let attempts = std::mem::take(&mut lock(&self.scope.attempts).started);
        Ended {
            trace_id: self.scope.context.trace_id,
            span_id: self.scope.context.span_id,
            parent: self.parent,
            trace_state: self
                .scope
                .tracestate
                .as_ref()
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            start: self.start,
            attempts,
        }
    }

    /// Queues the request's finished spans for export.
    pub fn export(self, spans: Vec<SpanData>) {
        self.telemetry.exporter.push(spans);
    }
}

tokio::task_local! {
    static CURRENT: Arc<Scope>;
}

/// Runs `work` (the request, below the front door) with `span` where the
/// call layer and the transport find it.
pub async fn within<F: std::future::Future>(span: Option<&RequestSpan>, work: F) -> F::Output {
    match span {
        Some(span) => CURRENT.scope(span.scope.clone(), work).await,
        None => work.await,
    }
}

/// The fallback target about to be called (0 the route's own), for the
/// attempts it makes. Nothing without a traced request.
pub fn target(fallback: usize, model: Option<&str>) {
    let _ = CURRENT.try_with(|scope| {
        lock(&scope.attempts).target = (fallback, model.map(str::to_owned));
    });
}

/// An attempt about to go upstream with the key `key` (its fingerprint):
/// the `traceparent` (and `tracestate`) it carries, naming the attempt's
/// new span. `None` without a traced request.
pub fn attempt_headers(key: &str) -> Option<(HeaderValue, Option<HeaderValue>)> {
    CURRENT
        .try_with(|scope| {
            let span_id = random_span_id();
            let mut attempts = lock(&scope.attempts);
            let (fallback, model) = attempts.target.clone();
            // A request's attempts are few; past this, no more marks.
            if attempts.started.len() < MAX_MARKS {
                attempts.started.push(AttemptMark {
                    span_id,
                    start: SystemTime::now(),
                    key: key.to_owned(),
                    fallback,
                    model,
                });
            }
            let context = TraceParent {
                span_id,
                ..scope.context
            };
            (context.header(), scope.tracestate.clone())
        })
        .ok()
}

/// The most attempts one request's trace records.
const MAX_MARKS: usize = 128;

fn lock(attempts: &Mutex<Attempts>) -> std::sync::MutexGuard<'_, Attempts> {
    attempts.lock().unwrap_or_else(|e| e.into_inner())
}

/// Random ids, never all zero (which the specification forbids).
fn random_trace_id() -> [u8; 16] {
    fastrand::u128(1..).to_be_bytes()
}

fn random_span_id() -> [u8; 8] {
    fastrand::u64(1..).to_be_bytes()
}

#[cfg(test)]
mod tests;

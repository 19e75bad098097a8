//! The batch exporter: finished spans wait in a bounded queue, and one task
//! sends them to the collector in batches (when a batch is full, when the
//! schedule delay passes, or on a flush). A full queue drops new spans and
//! counts them; a dead or slow collector costs at most one export's
//! timeout per batch, and never blocks or fails a request. A failed batch
//! is dropped, not retried.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};

use hyper_rustls::{ConfigBuilderExt, HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{mpsc, oneshot};

use super::otlp;
use super::settings::{Batch, Export};
use super::span::{Attributes, SpanData, Value};

/// Spans dropped, by why: the queue was full, or their export failed.
const DROPPED: &str = "keyrelay_trace_spans_dropped_total";
const EXPORTED: &str = "keyrelay_trace_spans_exported_total";

enum Message {
    Spans(Vec<SpanData>),
    Flush(oneshot::Sender<()>),
}

/// The queue's sending end; the export task ends when it is dropped.
pub struct Exporter {
    queue: mpsc::UnboundedSender<Message>,
    /// Spans in the queue: kept at most `max_queue` (so the unbounded
    /// channel is bounded by this count).
    queued: Arc<AtomicUsize>,
    max_queue: usize,
    dropped: Arc<AtomicU64>,
}

impl Exporter {
    /// Starts the export task on the current tokio runtime.
    pub fn start(export: &Export) -> Result<Exporter, String> {
        let client = client().map_err(|e| format!("building the OTLP client: {e}"))?;
        let (queue, received) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut headers = http::HeaderMap::new();
        for (name, value) in &export.headers {
            headers.append(name.clone(), value.clone());
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let sender = Sender {
            client,
            url: export.url.clone(),
            headers,
            resource: vec![
                ("service.name", Value::from(export.service_name.as_str())),
                ("service.version", Value::from(env!("CARGO_PKG_VERSION"))),
                ("telemetry.sdk.name", Value::from("keyrelay")),
                ("telemetry.sdk.language", Value::from("rust")),
            ],
            failing: AtomicBool::new(false),
            dropped: dropped.clone(),
        };
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| "tracing needs a running tokio runtime".to_owned())?;
        runtime.spawn(run(received, sender, export.batch, queued.clone()));
        Ok(Exporter {
            queue,
            queued,
            max_queue: export.batch.max_queue,
            dropped,
        })
    }

    /// Queues one request's spans, or drops them when the queue is full.
    pub fn push(&self, spans: Vec<SpanData>) {
        let n = spans.len();
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before + n > self.max_queue || self.queue.send(Message::Spans(spans)).is_err() {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            self.dropped.fetch_add(n as u64, Ordering::Relaxed);
            metrics::counter!(DROPPED, "reason" => "queue_full").increment(n as u64);
        }
    }

    /// Sends what is queued now; returns when that export has finished (or failed).
    pub async fn flush(&self) {
        let (done, finished) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).is_ok() {
            let _ = finished.await;
        }
    }

    /// Spans dropped so far (queue full or export failed).
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A small client of its own (HTTP/1 and 2, TLS by rustls with the web's
/// roots), built from the same crates as the upstream one.
fn client() -> Result<HttpClient, rustls::Error> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_webpki_roots()
    .with_no_client_auth();
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(1)
        .build(connector))
}

async fn run(
    mut received: mpsc::UnboundedReceiver<Message>,
    sender: Sender,
    batch: Batch,
    queued: Arc<AtomicUsize>,
) {
    let mut pending: Vec<SpanData> = Vec::new();
    let mut ticks = tokio::time::interval(batch.delay);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = received.recv() => match message {
                Some(Message::Spans(spans)) => {
                    queued.fetch_sub(spans.len(), Ordering::AcqRel);
                    pending.extend(spans);
                    if pending.len() >= batch.max_batch {
                        sender.send_all(&mut pending, batch).await;
                    }
                }
                Some(Message::Flush(done)) => {
                    sender.send_all(&mut pending, batch).await;
                    let _ = done.send(());
                }
                None => {
                    sender.send_all(&mut pending, batch).await;
                    return;
                }
            },
            _ = ticks.tick() => {
                if !pending.is_empty() {
                    sender.send_all(&mut pending, batch).await;
                }
            }
        }
    }
}

struct Sender {
    client: HttpClient,
    url: http::Uri,
    /// The configured headers (sensitive: never logged) and the content type.
    headers: http::HeaderMap,
    resource: Attributes,
    /// The last export failed: the next failure is not logged again.
    failing: AtomicBool,
    dropped: Arc<AtomicU64>,
}

impl Sender {
    /// Exports `pending` in batches of at most `max_batch`, emptying it.
    async fn send_all(&self, pending: &mut Vec<SpanData>, batch: Batch) {
        while !pending.is_empty() {
            let n = pending.len().min(batch.max_batch);
            let spans: Vec<SpanData> = pending.drain(..n).collect();
            match tokio::time::timeout(batch.timeout, self.send(&spans)).await {
                Ok(Ok(())) => {
                    metrics::counter!(EXPORTED).increment(n as u64);
                    if self.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!("trace export works again");
                    }
                }
                Ok(Err(why)) => self.failed(n, &why),
                Err(_) => self.failed(n, "the collector did not answer in time"),
            }
        }
    }

    fn failed(&self, n: usize, why: &str) {
        self.dropped.fetch_add(n as u64, Ordering::Relaxed);
        metrics::counter!(DROPPED, "reason" => "export_failed").increment(n as u64);
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(spans = n, reason = %why, "trace export failed: spans dropped (logged again once it has worked)");
        }
    }

    async fn send(&self, spans: &[SpanData]) -> Result<(), String> {
        let body = otlp::encode(
            &self.resource,
            ("keyrelay", env!("CARGO_PKG_VERSION")),
            spans,
        );
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.url.clone();
        *request.headers_mut() = self.headers.clone();
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status();
        // Read the (small) answer so the connection can be reused.
        let _ = http_body_util::Limited::new(response.into_body(), 64 * 1024)
            .collect()
            .await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the collector answered {status}"))
        }
    }
}

/// An error and its causes as text (the collector's URL holds no secret;
/// its headers are not part of any error).
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

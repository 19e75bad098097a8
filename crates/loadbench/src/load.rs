//! A closed-loop load generator: `concurrency` connections, each sending its
//! next request as soon as the last answer has been read, for a while.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One load run.
#[derive(Clone)]
pub struct Load {
    pub addr: std::net::SocketAddr,
    pub path: String,
    pub body: Bytes,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// Give every request its own `x-bench-request` id.
    pub unique_ids: bool,
    /// The `x-keyrelay-attempts` every answer must carry (a failover row
    /// must really fail over); any other value counts as an error.
    pub attempts: Option<&'static str>,
}

/// Request ids, unique for the whole process: the fake remembers every id
/// it has failed once, across runs.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What a run measured, latencies in microseconds.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub requests: u64,
    pub errors: u64,
    pub per_second: f64,
    pub total: Percentiles,
    /// Until the first body byte.
    pub first_byte: Percentiles,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

impl Percentiles {
    fn of(mut micros: Vec<u32>) -> Percentiles {
        if micros.is_empty() {
            return Percentiles::default();
        }
        micros.sort_unstable();
        let at = |q: f64| f64::from(micros[((micros.len() - 1) as f64 * q).round() as usize]);
        Percentiles {
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

struct Samples {
    total: Vec<u32>,
    first_byte: Vec<u32>,
    errors: u64,
}

/// Runs `load` and reports what was measured after the warm-up.
pub async fn run(load: &Load) -> Report {
    let started = Instant::now();
    let measure_from = started + load.warmup;
    let until = measure_from + load.duration;
    let workers: Vec<_> = (0..load.concurrency)
        .map(|_| tokio::spawn(worker(load.clone(), measure_from, until)))
        .collect();
    let mut total = Vec::new();
    let mut first_byte = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok(samples) = worker.await {
            total.extend(samples.total);
            first_byte.extend(samples.first_byte);
            errors += samples.errors;
        }
    }
    let requests = total.len() as u64;
    Report {
        requests,
        errors,
        per_second: requests as f64 / load.duration.as_secs_f64(),
        total: Percentiles::of(total),
        first_byte: Percentiles::of(first_byte),
    }
}

async fn worker(load: Load, measure_from: Instant, until: Instant) -> Samples {
    let mut samples = Samples {
        total: Vec::with_capacity(64 * 1024),
        first_byte: Vec::with_capacity(64 * 1024),
        errors: 0,
    };
    while Instant::now() < until {
        let Ok(mut sender) = connect(load.addr).await else {
            samples.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        while Instant::now() < until {
            let mut request = Request::post(load.path.as_str())
                .header(http::header::HOST, "127.0.0.1")
                .header(http::header::CONTENT_TYPE, "application/json");
            for (name, value) in &load.headers {
                request = request.header(name, value);
            }
            if load.unique_ids {
                request =
                    request.header("x-bench-request", NEXT_ID.fetch_add(1, Ordering::Relaxed));
            }
            let Ok(request) = request.body(Full::new(load.body.clone())) else {
                samples.errors += 1;
                break;
            };
            let sent = Instant::now();
            let Ok(response) = sender.send_request(request).await else {
                samples.errors += 1;
                break;
            };
            let ok = response.status().is_success()
                && load.attempts.is_none_or(|attempts| {
                    response.headers().get("x-keyrelay-attempts")
                        == Some(&HeaderValue::from_static(attempts))
                });
            let mut body = response.into_body();
            let mut first = None;
            let mut broken = false;
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(_) => {
                        first.get_or_insert_with(|| sent.elapsed());
                    }
                    Err(_) => {
                        broken = true;
                        break;
                    }
                }
            }
            let total = sent.elapsed();
            if sent < measure_from {
                continue;
            }
            if !ok || broken {
                samples.errors += 1;
                if broken {
                    break;
                }
                continue;
            }
            let micros = |d: Duration| u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
            samples.total.push(micros(total));
            samples.first_byte.push(micros(first.unwrap_or(total)));
        }
    }
    samples
}

pub type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

pub async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Sender> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Opens one slow stream (`x-bench-slow-stream: seconds`), counts it in
/// `open` once its first bytes arrived, and reads it to the end.
pub async fn hold_stream(
    addr: std::net::SocketAddr,
    body: Bytes,
    seconds: &'static str,
    open: &std::sync::atomic::AtomicUsize,
) -> anyhow::Result<()> {
    let mut sender = connect(addr).await?;
    let request = Request::post("/v1/messages")
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("x-bench-slow-stream", seconds)
        .body(Full::new(body))?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(response.status().is_success(), "HTTP {}", response.status());
    let mut body = response.into_body();
    let mut counted = false;
    while let Some(frame) = body.frame().await {
        frame?;
        if !counted {
            counted = true;
            open.fetch_add(1, Ordering::SeqCst);
        }
    }
    Ok(())
}

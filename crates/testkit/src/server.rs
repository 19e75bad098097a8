//! The fake upstream server: accept loop, per-connection HTTP/1.1, and its handle.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::abandon::Unfinished;
use crate::recorded::{key_of, Recorded};
use crate::reply::Reply;
use crate::respond::{respond, ResponseBody};
use crate::script::Ledger;

/// A fake provider upstream: a real HTTP/1.1 server on `127.0.0.1` at a random port,
/// answering each request from the script of the API key it carries.
///
/// Dropping it stops the server: the listener closes and every open connection,
/// including hanging and stalled replies, is closed.
#[derive(Debug)]
pub struct FakeUpstream {
    addr: SocketAddr,
    ledger: Arc<Mutex<Ledger>>,
    /// Replies the client went away from before they were complete.
    abandoned: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl FakeUpstream {
    /// Starts on `127.0.0.1:0`. The server task stops when the `FakeUpstream` is dropped.
    ///
    /// Panics if it cannot bind, which means the test environment is broken.
    pub async fn start() -> FakeUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("FakeUpstream: cannot bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("FakeUpstream: bound listener has no local address");
        let ledger = Arc::new(Mutex::new(Ledger::new()));
        let abandoned = Arc::new(AtomicUsize::new(0));
        let server = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&ledger),
            Arc::clone(&abandoned),
        ));
        FakeUpstream {
            addr,
            ledger,
            abandoned,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `base_url()` followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Script for requests carrying this key: replies are used in order; the last one
    /// repeats forever. Replaces any earlier script for the key and starts from its
    /// first reply; an empty list removes the script (the key gets the fallback).
    pub fn on_key(&self, key: &str, replies: impl IntoIterator<Item = Reply>) {
        self.ledger().set_script(key, replies);
    }

    /// Answers requests carrying `key` with `responder(request)`: for multi-turn
    /// conversations where the reply depends on what the client sent (e.g. a
    /// tool call first, then a final answer once the tool result comes back).
    pub fn on_key_with(
        &self,
        key: &str,
        responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) {
        self.ledger()
            .set_responder(key, std::sync::Arc::new(responder));
    }

    /// Script for requests with no recognisable key, or keys without their own script
    /// (default: 200 `{"ok":true}`). Same ordering rules as [`on_key`](Self::on_key);
    /// an empty list restores the default.
    pub fn fallback(&self, replies: impl IntoIterator<Item = Reply>) {
        self.ledger().set_fallback(replies);
    }

    /// Number of requests that arrived with this key (whether scripted or not).
    pub fn hits(&self, key: &str) -> usize {
        self.ledger().hits(key)
    }

    /// Number of requests received, with or without a key.
    pub fn total_hits(&self) -> usize {
        self.ledger().requests().len()
    }

    /// Every request received, in arrival order. A request is recorded once its
    /// whole body has been read, just before it is answered.
    pub fn requests(&self) -> Vec<Recorded> {
        self.ledger().requests().to_vec()
    }

    /// The requests that arrived with this key, in arrival order.
    pub fn requests_with_key(&self, key: &str) -> Vec<Recorded> {
        self.ledger()
            .requests()
            .iter()
            .filter(|r| r.key.as_deref() == Some(key))
            .cloned()
            .collect()
    }

    /// Replies the client (the gateway) went away from before they were
    /// complete: it closed the connection while the fake was still reading
    /// the request, waiting to answer (a hanging reply) or sending a body.
    /// A scripted reset or cut is the fake's own doing and does not count;
    /// neither do replies still open when the fake is dropped.
    pub fn abandoned(&self) -> usize {
        self.abandoned.load(Ordering::SeqCst)
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        lock(&self.ledger)
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.server.abort();
    }
}

/// A panic elsewhere while holding the lock leaves the ledger consistent (every
/// update is a single step), so a poisoned lock is still usable.
fn lock(ledger: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn accept_loop(
    listener: TcpListener,
    ledger: Arc<Mutex<Ledger>>,
    abandoned: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            // Transient (e.g. out of file descriptors under a load test): retry soon.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        // Small SSE chunks must leave at once, not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let ledger = Arc::clone(&ledger);
        let abandoned = Arc::clone(&abandoned);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let reply = Unfinished::new(Arc::clone(&abandoned));
                answer(request, Arc::clone(&ledger), reply)
            });
            // No timer is set, so hyper's header-read timeout stays off: under a
            // paused test clock it would fire on idle keep-alive connections.
            let connection = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            // Errors are scripted resets and cuts, or clients going away: all expected.
            let _ = connection.await;
        });
    }
}

/// Reads and records one request, then answers it from the script.
async fn answer(
    request: Request<Incoming>,
    ledger: Arc<Mutex<Ledger>>,
    unfinished: Unfinished,
) -> Result<Response<ResponseBody>, io::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(io::Error::other)?.to_bytes();
    let query = parts.uri.query().map(str::to_owned);
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        key: key_of(&parts.headers, query.as_deref()),
        query,
        headers: parts.headers,
        body,
    };
    let reply = lock(&ledger).admit(recorded);
    match respond(reply).await {
        Ok(response) => Ok(response.map(|body| unfinished.watch(body))),
        Err(scripted) => {
            unfinished.done();
            Err(scripted)
        }
    }
}

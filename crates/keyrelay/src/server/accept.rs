//! Accepting connections and serving them with hyper, HTTP/1 and HTTP/2 on
//! one port, within the connection limits of `[server]`:
//!
//! - a request head larger than `max_header_bytes` or with more than
//!   `max_headers` headers: HTTP/1 answers `431` and closes (hyper's read
//!   buffer is capped at that size); HTTP/2 answers that stream `431`;
//! - a head not complete within `header_read_timeout` of the connection's
//!   start or its previous response's end (slow-loris): the connection is
//!   closed (hyper's header timer; it also bounds an idle HTTP/1 wait);
//! - no request in flight for `idle_timeout`: the connection is closed.
//!
//! `axum::serve` has none of these knobs, hence this loop. Stopping stops
//! accepting, lets every request in flight finish (streams included), and
//! closes idle connections at once.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::limit::{ClientLimits, Holding};

/// After a failed accept (out of file descriptors, say), wait this long.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// requests in flight.
pub async fn serve_connections<S>(
    listener: TcpListener,
    app: S,
    limits: ClientLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<
            hyper::Request<Incoming>,
            Response = axum::response::Response,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static,
{
    let builder = connection_builder(&limits);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => tcp,
                Err(err) => {
                    if !is_connection_error(&err) {
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Streamed events are small writes: without TCP_NODELAY, Nagle's
        // algorithm can hold one back until the client's delayed ACK.
        let _ = tcp.set_nodelay(true);
        let in_flight = InFlight::default();
        let service = {
            let (app, in_flight) = (app.clone(), in_flight.clone());
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let busy = in_flight.begin();
                let call = app.clone().oneshot(request);
                async move {
                    let response = call.await?;
                    Ok::<_, Infallible>(response.map(|body| Body::new(Holding::new(body, busy))))
                }
            })
        };
        let connection = builder
            .serve_connection(TokioIo::new(tcp), service)
            .into_owned();
        let connection = graceful.watch(connection);
        let idle = in_flight.idle_for(limits.idle_timeout);
        tokio::spawn(async move {
            // Errors are clients going away, timeouts and bad requests,
            // which hyper has already answered where it could.
            tokio::select! {
                _ = connection => {}
                // Nothing in flight: dropping the connection just closes it.
                () = idle => {}
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn connection_builder(limits: &ClientLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    builder
}

/// Errors of one connection that was being accepted, not of the listener.
fn is_connection_error(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// How many requests of one connection are in flight (a request is in
/// flight from its head until its response body ends or is dropped).
#[derive(Clone, Default)]
struct InFlight(Arc<watch::Sender<usize>>);

/// One request in flight; dropping it ends it.
struct Busy(Arc<watch::Sender<usize>>);

impl InFlight {
    fn begin(&self) -> Busy {
        self.0.send_modify(|n| *n += 1);
        Busy(self.0.clone())
    }

    /// Completes once no request has been in flight for `limit`.
    async fn idle_for(self, limit: Duration) {
        let mut count = self.0.subscribe();
        loop {
            // The sender lives in `self`: these waits never fail.
            let _ = count.wait_for(|n| *n == 0).await;
            // Any change starts the wait again, even a request that began
            // and ended before this task looked.
            if tokio::time::timeout(limit, count.changed()).await.is_err() {
                return;
            }
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests;

//! A fake HTTP proxy on 127.0.0.1, for the gateway's proxy support.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A request head as the proxy received it.
#[derive(Clone, Debug)]
pub struct ProxyRequest {
    /// `CONNECT`, `GET`, `POST`, ...
    pub method: String,
    /// The request target as sent: `host:port` for `CONNECT`, the whole URL
    /// for a request in absolute form.
    pub target: String,
    /// Every header, in order, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl ProxyRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP proxy on `127.0.0.1` at a random port that records the head
/// of each request it receives. A request in absolute form
/// (`GET http://host:port/path`) is forwarded to its upstream in origin form
/// with `connection: close` (so each one arrives on its own connection and
/// is recorded), without the proxy's own headers. A `CONNECT` is answered
/// `200` and the connection then closed: nothing behind it speaks TLS, so
/// what the client sent is all a test can check.
///
/// Dropping it stops the proxy and closes its connections.
#[derive(Debug)]
pub struct FakeProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<ProxyRequest>>>,
    server: JoinHandle<()>,
}

impl FakeProxy {
    /// Starts on `127.0.0.1:0`; panics if it cannot bind.
    pub async fn start() -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("FakeProxy: cannot bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("FakeProxy: bound listener has no local address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let server = tokio::spawn(accept_loop(listener, Arc::clone(&seen)));
        FakeProxy { addr, seen, server }
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request head received, in arrival order.
    pub fn requests(&self) -> Vec<ProxyRequest> {
        self.seen().clone()
    }

    fn seen(&self) -> MutexGuard<'_, Vec<ProxyRequest>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of request heads received.
    pub fn hits(&self) -> usize {
        self.seen().len()
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn accept_loop(listener: TcpListener, seen: Arc<Mutex<Vec<ProxyRequest>>>) {
    // Owned here: aborting the loop drops the set, which aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let seen = Arc::clone(&seen);
        connections.spawn(async move {
            let _ = serve(stream, seen).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn serve(mut client: TcpStream, seen: Arc<Mutex<Vec<ProxyRequest>>>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(ProxyRequest {
            method: method.clone(),
            target: target.clone(),
            headers: headers.clone(),
        });
    if method == "CONNECT" {
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await?;
        return client.shutdown().await;
    }
    let Ok(uri) = target.parse::<http::Uri>() else {
        return bad_request(client).await;
    };
    let Some(authority) = uri.authority() else {
        return bad_request(client).await;
    };
    let address = match authority.port_u16() {
        Some(_) => authority.as_str().to_owned(),
        None => format!("{}:80", authority.host()),
    };
    let mut upstream = TcpStream::connect(address).await?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut forwarded = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive"
        ) {
            forwarded.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    forwarded.push_str("connection: close\r\n\r\n");
    upstream.write_all(forwarded.as_bytes()).await?;
    upstream.write_all(&buf[head_end + 4..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

async fn bad_request(mut client: TcpStream) -> io::Result<()> {
    client
        .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await?;
    client.shutdown().await
}

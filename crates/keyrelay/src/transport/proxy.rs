//! Upstream requests through the proxy the environment names, read the way
//! curl and most HTTP clients read it: `HTTPS_PROXY` for https:// upstreams,
//! `HTTP_PROXY` for http:// ones, `ALL_PROXY` for either when its own is
//! unset, `NO_PROXY` for the hosts reached directly; each upper case first,
//! then lower case.
//!
//! - An https:// upstream goes through an HTTP `CONNECT` tunnel, then TLS to
//!   the upstream itself as without a proxy (the upstream's certificate and
//!   name are checked). Credentials in the proxy URL
//!   (`http://user:pass@proxy:3128`) go in `Proxy-Authorization` (basic).
//! - An http:// upstream is sent to the proxy in absolute form
//!   (`POST http://host/path`), the credentials on each request.
//! - `socks5h://` and `socks4a://` proxies carry either kind, the proxy
//!   resolving the upstream's name; `socks5://` and `socks4://` resolve it
//!   here first. SOCKS5 takes a user and password.
//! - An `https://` proxy is reached over TLS.
//!
//! Without any of these variables the transport has no proxy at all and
//! every request takes the direct client, exactly as before.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::PROXY_AUTHORIZATION;
use http::uri::Scheme;
use http::{HeaderMap, Uri};
use http_body_util::Full;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5, Tunnel};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};
use tower::Service;

use crate::env::Env;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The proxy settings from the environment and the client that uses them.
pub(super) struct Proxy {
    matcher: Arc<Matcher>,
    client: Client<ProxyConnector, Full<Bytes>>,
}

/// What the environment says, before any client is built.
pub(super) struct Settings {
    matcher: Matcher,
    /// For the log line: proxy URLs without credentials, and `NO_PROXY`.
    pub summary: String,
}

impl Settings {
    /// `None` when no proxy variable names a usable proxy.
    pub fn from_env(env: &dyn Env) -> Option<Settings> {
        // As curl and other clients: under CGI, `HTTP_PROXY` may come from a
        // request's `Proxy:` header, so no variable is trusted there.
        if env.var("REQUEST_METHOD").is_some() {
            return None;
        }
        let all = first_set(env, "ALL_PROXY", "all_proxy");
        let http = first_set(env, "HTTP_PROXY", "http_proxy");
        let https = first_set(env, "HTTPS_PROXY", "https_proxy");
        let no = first_set(env, "NO_PROXY", "no_proxy");
        let probe_http = Uri::from_static("http://upstream.invalid/");
        let probe_https = Uri::from_static("https://upstream.invalid/");
        for (name, value) in [
            ("ALL_PROXY/all_proxy", &all),
            ("HTTP_PROXY/http_proxy", &http),
            ("HTTPS_PROXY/https_proxy", &https),
        ] {
            let usable = Matcher::builder()
                .all(value.as_str())
                .build()
                .intercept(&probe_http)
                .is_some();
            // The value may hold a password: it is never logged.
            if !value.trim().is_empty() && !usable {
                tracing::warn!("{name} is not a proxy URL keyrelay can use; ignored");
            }
        }
        // The proxies alone, without NO_PROXY, to tell what was understood.
        let proxies = Matcher::builder()
            .all(all.as_str())
            .http(http.as_str())
            .https(https.as_str())
            .build();
        let for_http = proxies.intercept(&probe_http);
        let for_https = proxies.intercept(&probe_https);
        if for_http.is_none() && for_https.is_none() {
            return None;
        }
        let summary = format!(
            "http: {}, https: {}, no_proxy: {}",
            shown(for_http.as_ref()),
            shown(for_https.as_ref()),
            if no.trim().is_empty() { "-" } else { no.trim() },
        );
        let matcher = Matcher::builder()
            .all(all)
            .http(http)
            .https(https)
            .no(no)
            .build();
        Some(Settings { matcher, summary })
    }
}

/// The first of two variables that is set, even to nothing; else empty.
fn first_set(env: &dyn Env, upper: &str, lower: &str) -> String {
    env.var(upper)
        .or_else(|| env.var(lower))
        .unwrap_or_default()
}

/// A proxy's scheme and address: the matcher keeps no credentials in it.
fn shown(proxy: Option<&Intercept>) -> String {
    match proxy.map(Intercept::uri) {
        Some(uri) => format!(
            "{}://{}",
            uri.scheme_str().unwrap_or("http"),
            uri.authority().map_or("", |a| a.as_str())
        ),
        None => "direct".into(),
    }
}

impl Proxy {
    /// `tcp` is the direct client's connector (timeouts, keepalive);
    /// `tls` its TLS configuration before ALPN is chosen.
    pub fn new(
        settings: Settings,
        tcp: HttpConnector,
        tls: rustls::ClientConfig,
        client: &hyper_util::client::legacy::Builder,
    ) -> Proxy {
        let matcher = Arc::new(settings.matcher);
        let mut upstream_tls = tls.clone();
        // As the direct client: HTTP/2 when the upstream offers it.
        upstream_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let to_proxy = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp.clone());
        let connector = ProxyConnector {
            matcher: matcher.clone(),
            tcp,
            to_proxy,
            upstream_tls: Arc::new(upstream_tls),
        };
        Proxy {
            matcher,
            client: client.build(connector),
        }
    }

    /// The proxied client when `url` goes through a proxy (with the proxy's
    /// credentials put in `headers` for a request in absolute form), `None`
    /// when it goes direct.
    pub fn route(
        &self,
        url: &Uri,
        headers: &mut HeaderMap,
    ) -> Option<&Client<ProxyConnector, Full<Bytes>>> {
        let proxy = self.matcher.intercept(url)?;
        if url.scheme() == Some(&Scheme::HTTP) && !is_socks(proxy.uri()) {
            if let Some(auth) = proxy.basic_auth() {
                headers.insert(PROXY_AUTHORIZATION, auth.clone());
            }
        }
        Some(&self.client)
    }
}

fn is_socks(proxy: &Uri) -> bool {
    matches!(
        proxy.scheme_str(),
        Some("socks4" | "socks4a" | "socks5" | "socks5h")
    )
}

/// Opens connections through the proxy the matcher picks for each upstream.
#[derive(Clone)]
pub(super) struct ProxyConnector {
    matcher: Arc<Matcher>,
    tcp: HttpConnector,
    /// To an HTTP proxy: plain, or TLS for an `https://` proxy; HTTP/1.1.
    to_proxy: HttpsConnector<HttpConnector>,
    /// To the upstream, through a tunnel.
    upstream_tls: Arc<rustls::ClientConfig>,
}

impl Service<Uri> for ProxyConnector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        Box::pin(self.clone().connect(dst))
    }
}

impl ProxyConnector {
    async fn connect(mut self, dst: Uri) -> Result<Conn, BoxError> {
        let https = dst.scheme() == Some(&Scheme::HTTPS);
        let Some(proxy) = self.matcher.intercept(&dst) else {
            // Not reached: the transport sends here only what the matcher
            // intercepts. Direct, then, as the direct client would.
            let io = HttpsConnector::from((self.tcp, self.upstream_tls))
                .call(dst)
                .await?;
            return Ok(Conn::new(io, false));
        };
        if is_socks(proxy.uri()) {
            return self.socks(&proxy, dst).await;
        }
        let to_proxy = self.to_proxy.call(proxy.uri().clone()).await?;
        if !https {
            // The proxy reads the upstream from the request line.
            return Ok(Conn::new(to_proxy, true));
        }
        let mut tunnel = Tunnel::new(proxy.uri().clone(), Once::new(to_proxy));
        if let Some(auth) = proxy.basic_auth() {
            tunnel = tunnel.with_auth(auth.clone());
        }
        let tunnelled = tunnel.call(dst.clone()).await?;
        let io = HttpsConnector::from((Once::new(tunnelled), self.upstream_tls))
            .call(dst)
            .await?;
        Ok(Conn::new(io, false))
    }

    async fn socks(mut self, proxy: &Intercept, dst: Uri) -> Result<Conn, BoxError> {
        let scheme = proxy.uri().scheme_str().unwrap_or_default();
        let mut address = proxy.uri().clone();
        if address.port().is_none() {
            // SOCKS's own port rather than HTTP's.
            let authority = address.authority().map_or("", |a| a.as_str());
            address = format!("{scheme}://{authority}:1080/").parse()?;
        }
        let tcp = self.tcp.call(address.clone()).await?;
        let target = socks_target(&dst, scheme).await?;
        let tunnelled = if scheme.starts_with("socks5") {
            let mut socks = SocksV5::new(address, Once::new(tcp));
            if let Some((user, pass)) = proxy.raw_auth() {
                socks = socks.with_auth(user.to_owned(), pass.to_owned());
            }
            socks.call(target).await
        } else {
            SocksV4::new(address, Once::new(tcp)).call(target).await
        }
        .map_err(|err| io::Error::other(format!("{scheme} proxy: {err}")))?;
        // TLS to the upstream's own name when https, plain otherwise.
        let io = HttpsConnector::from((Once::new(tunnelled), self.upstream_tls))
            .call(dst)
            .await?;
        Ok(Conn::new(io, false))
    }
}

/// The address a SOCKS proxy is asked for: the upstream's name for
/// `socks5h`/`socks4a`, else one of its addresses, resolved here.
async fn socks_target(dst: &Uri, scheme: &str) -> Result<Uri, BoxError> {
    let https = dst.scheme() == Some(&Scheme::HTTPS);
    let host = dst.host().ok_or("no upstream host")?;
    let port = dst.port_u16().unwrap_or(if https { 443 } else { 80 });
    let host = match scheme {
        "socks5" | "socks4" if host.parse::<std::net::IpAddr>().is_err() => {
            let mut addresses = tokio::net::lookup_host((host, port)).await?;
            let address = if scheme == "socks4" {
                addresses.find(std::net::SocketAddr::is_ipv4)
            } else {
                addresses.next()
            }
            .ok_or("the upstream host has no usable address")?;
            match address.ip() {
                std::net::IpAddr::V4(ip) => ip.to_string(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            }
        }
        _ => host.to_owned(),
    };
    Ok(format!("{}://{host}:{port}", if https { "https" } else { "http" }).parse()?)
}

/// A connector that hands out one connection already open: the steps of a
/// proxied connection (to the proxy, tunnel, TLS) are the library's
/// connectors, each given the previous step's connection.
struct Once<T>(Option<T>);

impl<T> Once<T> {
    fn new(io: T) -> Once<T> {
        Once(Some(io))
    }
}

impl<T> Service<Uri> for Once<T> {
    type Response = T;
    type Error = io::Error;
    type Future = std::future::Ready<Result<T, io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _dst: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| io::Error::other("connection already used")),
        )
    }
}

trait Io: Read + Write + Connection + Send + Unpin + 'static {}

impl<T: Read + Write + Connection + Send + Unpin + 'static> Io for T {}

/// A connection through a proxy. `absolute_form` tells the client to write
/// the whole URL in the request line (a plain HTTP proxy's way).
pub(super) struct Conn {
    io: Box<dyn Io>,
    absolute_form: bool,
}

impl Conn {
    fn new(io: impl Io, absolute_form: bool) -> Conn {
        Conn {
            io: Box::new(io),
            absolute_form,
        }
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.absolute_form)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.io).poll_write_vectored(cx, bufs)
    }
}

//! `keyrelay health`: asks a running gateway's `/health` whether it is up.
//! It exists for container health checks: a `FROM scratch` image has no
//! shell or curl, only keyrelay.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::env::Env;

/// Where `keyrelay serve` listens when nothing says otherwise.
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// The health URL of the gateway this environment starts: the address of
/// `KEYRELAY_LISTEN` (an unspecified address, `0.0.0.0` or `::`, is asked on
/// loopback), else 127.0.0.1:8080.
pub fn default_url(env: &dyn Env) -> String {
    let mut addr = env
        .non_empty("KEYRELAY_LISTEN")
        .and_then(|listen| listen.trim().parse::<SocketAddr>().ok())
        .unwrap_or(DEFAULT_LISTEN);
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{addr}/health")
}

/// Sends `GET url` and waits up to `timeout` for the whole answer: its body
/// when the status is 200, else why not.
pub async fn check(url: &str, timeout: Duration) -> Result<String, String> {
    let uri: http::Uri = url
        .parse()
        .map_err(|err| format!("`{url}` is not a URL: {err}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("`{url}` is not a plain http:// URL"));
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<bytes::Bytes>>();
    let ask = async {
        let response = client
            .get(uri)
            .await
            .map_err(|err| format!("cannot reach {url}: {err}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|err| format!("reading the answer of {url}: {err}"))?
            .to_bytes();
        let body = String::from_utf8_lossy(&body).trim().to_owned();
        if status == http::StatusCode::OK {
            Ok(body)
        } else {
            Err(format!("{url} answered {status}: {body}"))
        }
    };
    tokio::time::timeout(timeout, ask)
        .await
        .map_err(|_| format!("{url} did not answer within {} s", timeout.as_secs()))?
}

#[cfg(test)]
mod tests;

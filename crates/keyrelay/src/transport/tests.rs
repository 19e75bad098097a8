use futures_util::StreamExt;
use testkit::{FakeProxy, FakeUpstream, Reply};

use super::*;
use crate::env::MapEnv;

const KEY: &str = "test-transport-key-000001";

fn transport() -> Transport {
    transport_with(&[])
}

fn transport_with(env: &[(&str, &str)]) -> Transport {
    Transport::new(
        Duration::from_secs(2),
        Duration::from_secs(2),
        &MapEnv::new(env.iter().copied()),
    )
    .expect("transport")
}

/// Obviously fake proxy credentials.
const PROXY_PASSWORD: &str = "proxy-pass-0001";
/// `Basic` and base64 of `proxy-user:proxy-pass-0001`.
const PROXY_BASIC: &str = "Basic cHJveHktdXNlcjpwcm94eS1wYXNzLTAwMDE=";

fn with_credentials(proxy: &FakeProxy) -> String {
    format!("http://proxy-user:{PROXY_PASSWORD}@{}", proxy.addr())
}

/// A key check's GET of `/v1/models` on `upstream`, with the test key.
async fn list_models(
    transport: &Transport,
    upstream: &FakeUpstream,
) -> Result<super::ResponseHead, super::SendError> {
    let request = outbound(Method::GET, &upstream.url("/v1/models"), "");
    transport.send(&request, &ApiKey::new(KEY, None)).await
}

fn outbound(method: Method, url: &str, body: &'static str) -> Outbound {
    Outbound {
        method,
        url: url.parse().expect("uri"),
        headers: HeaderMap::new(),
        body: Bytes::from_static(body.as_bytes()),
        auth: Auth::XApiKey,
        dialect: Dialect::Anthropic,
    }
}

#[tokio::test]
async fn a_request_carries_its_key_host_length_and_the_exact_path() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "pong")]);
    let url = upstream.url("/v1/a%2Fb?x=1");
    let head = transport()
        .send(
            &outbound(Method::POST, &url, "{\"hi\":1}"),
            &ApiKey::new(KEY, None),
        )
        .await
        .map_err(|e| e.message)
        .expect("response");
    assert_eq!(head.status, StatusCode::OK);
    let body: Vec<Bytes> = head.body.map(|c| c.expect("chunk")).collect().await;
    assert_eq!(body.concat(), b"pong");
    let sent = &upstream.requests()[0];
    assert_eq!(
        (sent.path.as_str(), sent.query.as_deref()),
        ("/v1/a%2Fb", Some("x=1"))
    );
    let host = upstream.addr().to_string();
    assert_eq!(sent.header("host"), Some(host.as_str()));
    assert_eq!(sent.header("content-length"), Some("8"));
    assert_eq!(sent.header("x-api-key"), Some(KEY));
    assert_eq!(sent.header("accept"), Some("*/*"));
    assert_eq!(sent.body.as_ref(), b"{\"hi\":1}");
}

#[tokio::test]
async fn a_get_without_a_body_sends_no_length() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "")]);
    let sent = list_models(&transport(), &upstream).await;
    assert!(sent.is_ok());
    let recorded = &upstream.requests()[0];
    assert_eq!(recorded.method, "GET");
    assert_eq!(recorded.header("content-length"), None);
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_failure_described_without_the_url() {
    let upstream = FakeUpstream::start().await;
    let url = upstream.url("/v1/models?key=query-secret-0001");
    drop(upstream);
    tokio::task::yield_now().await;
    let err = transport()
        .send(&outbound(Method::GET, &url, ""), &ApiKey::new(KEY, None))
        .await
        .err()
        .expect("refused");
    assert_eq!(err.failure, TransportFailure::Connect, "{}", err.message);
    assert!(err.message.contains("refused"), "{}", err.message);
    assert!(!err.message.contains("query-secret"), "{}", err.message);
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_is_never_sent_and_fails_the_attempt_as_invalid() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "pong")]);
    let broken = ApiKey::new("test-transport-key\u{0}-000002", None);
    let err = transport()
        .send(
            &outbound(Method::POST, &upstream.url("/v1/messages"), "{}"),
            &broken,
        )
        .await
        .err()
        .expect("not sent");
    assert_eq!(
        err.failure,
        TransportFailure::NotSent(headers::NotInjected::KeyNotAHeaderValue)
    );
    assert!(
        err.message.contains(broken.fingerprint().as_str()),
        "{}",
        err.message
    );
    assert!(!err.message.contains("000002"), "{}", err.message);
    let outcome = err.failure.outcome();
    assert_eq!(outcome.class, OutcomeClass::KeyInvalid);
    assert_eq!(outcome.reason.as_deref(), Some("key_not_a_header_value"));
    assert!(
        upstream.requests().is_empty(),
        "nothing went out without its key"
    );
}

#[tokio::test]
async fn a_connection_closed_before_the_response_is_a_reset() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::reset()]);
    let err = transport()
        .send(
            &outbound(Method::POST, &upstream.url("/v1/messages"), "{}"),
            &ApiKey::new(KEY, None),
        )
        .await
        .err()
        .expect("reset");
    assert_eq!(err.failure, TransportFailure::Reset, "{}", err.message);
}

#[tokio::test]
async fn an_http_upstream_goes_to_the_proxy_in_absolute_form_with_its_credentials() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "pong")]);
    let proxy = FakeProxy::start().await;
    let proxy_url = with_credentials(&proxy);
    // A NO_PROXY that lists other hosts changes nothing for this one.
    let transport = transport_with(&[
        ("HTTP_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "localhost,example.com"),
    ]);
    let url = upstream.url("/v1/messages?x=1");
    for _ in 0..2 {
        let head = transport
            .send(
                &outbound(Method::POST, &url, "{\"hi\":1}"),
                &ApiKey::new(KEY, None),
            )
            .await
            .map_err(|e| e.message)
            .expect("response through the proxy");
        assert_eq!(head.status, StatusCode::OK);
        let body: Vec<Bytes> = head.body.map(|c| c.expect("chunk")).collect().await;
        assert_eq!(body.concat(), b"pong");
    }
    let seen = proxy.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let host = upstream.addr().to_string();
    for request in &seen {
        assert_eq!(
            (request.method.as_str(), request.target.as_str()),
            ("POST", url.as_str())
        );
        assert_eq!(request.header("proxy-authorization"), Some(PROXY_BASIC));
        assert_eq!(request.header("host"), Some(host.as_str()));
        assert_eq!(request.header("x-api-key"), Some(KEY));
    }
    let sent = upstream.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[0].path.as_str(), sent[0].query.as_deref()),
        ("/v1/messages", Some("x=1"))
    );
    assert_eq!(sent[0].body.as_ref(), b"{\"hi\":1}");
}

#[tokio::test]
async fn an_https_upstream_is_tunnelled_with_connect_and_basic_credentials() {
    let proxy = FakeProxy::start().await;
    let proxy_url = with_credentials(&proxy);
    let transport = transport_with(&[("HTTPS_PROXY", proxy_url.as_str())]);
    // The proxy answers the CONNECT, then closes: the TLS handshake fails.
    let err = transport
        .send(
            &outbound(
                Method::POST,
                "https://api.example.test/v1/messages?key=query-secret-0001",
                "{}",
            ),
            &ApiKey::new(KEY, None),
        )
        .await
        .err()
        .expect("no TLS server behind the fake proxy");
    assert_eq!(err.failure, TransportFailure::Connect, "{}", err.message);
    assert!(!err.message.contains(PROXY_PASSWORD), "{}", err.message);
    assert!(!err.message.contains("query-secret"), "{}", err.message);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let connect = &seen[0];
    assert_eq!(
        (connect.method.as_str(), connect.target.as_str()),
        ("CONNECT", "api.example.test:443")
    );
    assert_eq!(connect.header("host"), Some("api.example.test:443"));
    assert_eq!(connect.header("proxy-authorization"), Some(PROXY_BASIC));
    // Nothing of the request itself crosses the proxy in clear.
    assert_eq!(connect.header("x-api-key"), None);

    // HTTPS_PROXY is for https:// upstreams only: http:// ones go direct.
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "")]);
    let direct = list_models(&transport, &upstream).await;
    assert!(direct.is_ok());
    assert_eq!((upstream.total_hits(), proxy.hits()), (1, 1));
}

#[tokio::test]
async fn hosts_in_no_proxy_are_reached_directly() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "")]);
    let proxy = FakeProxy::start().await;
    let proxy_url = proxy.url();
    let transport = transport_with(&[
        ("HTTP_PROXY", proxy_url.as_str()),
        ("HTTPS_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "localhost, 127.0.0.1"),
    ]);
    let sent = list_models(&transport, &upstream).await;
    assert!(sent.is_ok());
    assert_eq!((upstream.total_hits(), proxy.hits()), (1, 0));
}

#[tokio::test]
async fn lower_case_all_proxy_serves_when_no_specific_proxy_is_set() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "")]);
    let proxy = FakeProxy::start().await;
    let proxy_url = proxy.url();
    let transport = transport_with(&[("all_proxy", proxy_url.as_str())]);
    let sent = list_models(&transport, &upstream).await;
    assert!(sent.is_ok());
    assert_eq!((upstream.total_hits(), proxy.hits()), (1, 1));
    assert_eq!(proxy.requests()[0].header("proxy-authorization"), None);
}

#[tokio::test]
async fn a_proxy_that_refuses_connections_is_a_connect_failure() {
    let proxy = FakeProxy::start().await;
    let proxy_url = with_credentials(&proxy);
    drop(proxy);
    tokio::task::yield_now().await;
    let transport = transport_with(&[("ALL_PROXY", proxy_url.as_str())]);
    for url in [
        "http://api.example.test/v1/models",
        "https://api.example.test/v1/models",
    ] {
        let err = transport
            .send(&outbound(Method::GET, url, ""), &ApiKey::new(KEY, None))
            .await
            .err()
            .expect("refused");
        assert_eq!(
            err.failure,
            TransportFailure::Connect,
            "{url}: {}",
            err.message
        );
        assert!(err.message.contains("refused"), "{url}: {}", err.message);
        assert!(
            !err.message.contains(PROXY_PASSWORD),
            "{url}: {}",
            err.message
        );
    }
}

#[test]
fn proxy_settings_come_from_the_environment_upper_case_first() {
    let settings =
        |env: &[(&str, &str)]| proxy::Settings::from_env(&MapEnv::new(env.iter().copied()));
    assert!(settings(&[]).is_none());
    assert!(settings(&[("NO_PROXY", "localhost")]).is_none());
    assert!(settings(&[("HTTP_PROXY", "ftp://proxy.example.test:21")]).is_none());
    // Under CGI, HTTP_PROXY may come from a request header: none is trusted.
    assert!(settings(&[
        ("HTTP_PROXY", "http://proxy.example.test:3128"),
        ("REQUEST_METHOD", "GET")
    ])
    .is_none());

    let both = settings(&[
        (
            "HTTPS_PROXY",
            "http://proxy-user:proxy-pass-0001@upper.example.test:3128",
        ),
        ("https_proxy", "http://lower.example.test:3128"),
        ("http_proxy", "socks5h://socks.example.test"),
        ("no_proxy", "localhost"),
    ])
    .expect("proxies");
    assert_eq!(
        both.summary,
        "http: socks5h://socks.example.test, https: http://upper.example.test:3128, no_proxy: localhost"
    );
    assert!(!both.summary.contains(PROXY_PASSWORD));
}

/// A SOCKS5 proxy that takes a user and password (RFC 1929), records them
/// and the address asked for, and connects there.
async fn fake_socks5() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let mut head = [0u8; 2];
                client.read_exact(&mut head).await?;
                let mut methods = vec![0u8; usize::from(head[1])];
                client.read_exact(&mut methods).await?;
                client.write_all(&[5, 2]).await?; // user and password
                let mut version_and_len = [0u8; 2];
                client.read_exact(&mut version_and_len).await?;
                let mut user = vec![0u8; usize::from(version_and_len[1])];
                client.read_exact(&mut user).await?;
                let pass_len = client.read_u8().await?;
                let mut pass = vec![0u8; usize::from(pass_len)];
                client.read_exact(&mut pass).await?;
                client.write_all(&[1, 0]).await?;
                let mut request = [0u8; 4];
                client.read_exact(&mut request).await?;
                let host = match request[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        client.read_exact(&mut ip).await?;
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    _ => {
                        let len = client.read_u8().await?;
                        let mut name = vec![0u8; usize::from(len)];
                        client.read_exact(&mut name).await?;
                        String::from_utf8_lossy(&name).into_owned()
                    }
                };
                let port = client.read_u16().await?;
                record.lock().expect("lock").push(format!(
                    "{}:{} {host}:{port}",
                    String::from_utf8_lossy(&user),
                    String::from_utf8_lossy(&pass)
                ));
                let mut upstream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
                client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
                tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
                Ok::<_, std::io::Error>(())
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_socks5_proxy_carries_an_http_upstream_with_its_credentials() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(KEY, [Reply::raw(200, "text/plain", "pong")]);
    let (socks, seen) = fake_socks5().await;
    let proxy_url = format!("socks5h://proxy-user:{PROXY_PASSWORD}@{socks}");
    let transport = transport_with(&[("ALL_PROXY", proxy_url.as_str())]);
    let head = list_models(&transport, &upstream)
        .await
        .map_err(|e| e.message)
        .expect("response through the SOCKS proxy");
    assert_eq!(head.status, StatusCode::OK);
    let recorded = seen.lock().expect("lock").clone();
    assert_eq!(
        recorded,
        [format!("proxy-user:{PROXY_PASSWORD} {}", upstream.addr())]
    );
    // In origin form, as to the upstream itself, and no proxy header.
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path, "/v1/models");
    assert_eq!(sent.header("proxy-authorization"), None);
}

use futures_util::StreamExt;
use testkit::{FakeUpstream, Reply};

use super::*;

const KEY: &str = "test-transport-key-000001";

fn transport() -> Transport {
    Transport::new(Duration::from_secs(2), Duration::from_secs(2)).expect("transport")
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
    let sent = transport()
        .send(
            &outbound(Method::GET, &upstream.url("/v1/models"), ""),
            &ApiKey::new(KEY, None),
        )
        .await;
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

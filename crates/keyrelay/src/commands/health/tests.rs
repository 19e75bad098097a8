use super::*;
use crate::env::MapEnv;

#[test]
fn the_default_url_is_the_default_listen_address() {
    assert_eq!(
        default_url(&MapEnv::default()),
        "http://127.0.0.1:8080/health"
    );
}

#[test]
fn the_default_url_follows_keyrelay_listen_on_loopback() {
    let url = |listen: &str| default_url(&MapEnv::new([("KEYRELAY_LISTEN", listen)]));
    assert_eq!(url("0.0.0.0:9000"), "http://127.0.0.1:9000/health");
    assert_eq!(url("[::]:9001"), "http://[::1]:9001/health");
    assert_eq!(url("10.1.2.3:9002"), "http://10.1.2.3:9002/health");
    assert_eq!(url("not an address"), "http://127.0.0.1:8080/health");
}

#[tokio::test]
async fn a_gateway_that_is_not_there_is_reported_as_such() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}/health", listener.local_addr().expect("address"));
    drop(listener);
    let error = check(&url, Duration::from_secs(5))
        .await
        .expect_err("nothing listens");
    assert!(error.contains("cannot reach"), "{error}");
}

#[tokio::test]
async fn only_plain_http_urls_are_asked() {
    let error = check("https://127.0.0.1:1/health", Duration::from_secs(1))
        .await
        .expect_err("https is refused");
    assert!(error.contains("plain http"), "{error}");
}

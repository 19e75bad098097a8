//! Upstream requests through the proxy named in the gateway's environment.

use testkit::{FakeProxy, FakeUpstream, Reply};

use super::*;

#[tokio::test]
async fn upstream_requests_go_through_the_environments_proxy_unless_no_proxy_lists_the_host() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hello"))]);
    let proxy = FakeProxy::start().await;
    let base = upstream.base_url();
    let proxy_url = proxy.url();
    let proxied = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", base.as_str()),
            ("HTTP_PROXY", proxy_url.as_str()),
        ],
        "",
    )
    .await;
    let response = post_messages(&proxied, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(response.status().as_u16(), 200);
    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.clone()),
        ("POST", format!("{base}/v1/messages"))
    );
    assert_eq!(upstream.hits(GOOD), 1);

    let direct = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", base.as_str()),
            ("HTTP_PROXY", proxy_url.as_str()),
            ("no_proxy", "127.0.0.1"),
        ],
        "",
    )
    .await;
    let response = post_messages(&direct, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!((proxy.hits(), upstream.hits(GOOD)), (1, 2));
}

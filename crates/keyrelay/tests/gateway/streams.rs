//! Streams: held until the first event so an in-stream error still fails
//! over; cut after content → a proper error event and a clean end.

use std::time::Duration;

use testkit::{eventually, FakeUpstream, Reply, SseEvent};

use super::*;

async fn anthropic_gateway(upstream: &FakeUpstream, keys: &[&str], toml: &str) -> RunningGateway {
    let keys = keys.join(",");
    start(
        &[
            ("ANTHROPIC_API_KEYS", keys.as_str()),
            ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
        ],
        toml,
    )
    .await
}

fn events(body: &str) -> Vec<String> {
    body.lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_stream_passes_through_byte_for_byte() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let gateway = anthropic_gateway(&upstream, &[GOOD], "").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    assert_eq!(response.status(), 200);
    assert!(header(&response, "content-type").starts_with("text/event-stream"));
    assert_eq!(attempts(&response), 1);
    let body = response.text().await.unwrap();
    let expected: String = testkit::anthropic_stream_events("Hello brave world")
        .iter()
        .map(|e| String::from_utf8_lossy(&e.encode()).into_owned())
        .collect();
    assert_eq!(events(&body), events(&expected));
    assert_eq!(
        events(&body).last().map(String::as_str),
        Some("message_stop")
    );
}

#[tokio::test]
async fn an_error_inside_a_200_stream_fails_over() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::anthropic_stream_error(
            "overloaded_error",
            "Overloaded",
        )],
    );
    upstream.on_key(GOOD, [Reply::anthropic_stream("fine")]);
    let gateway = anthropic_gateway(&upstream, &[LIMITED, GOOD], "").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
    let body = response.text().await.unwrap();
    assert!(!body.contains("overloaded_error"), "{body}");
    assert!(body.contains("message_stop"));
}

#[tokio::test]
async fn a_stream_cut_after_content_ends_with_an_error_event() {
    let upstream = FakeUpstream::start().await;
    // message_start, content_block_start, ping, one delta, then the cut.
    upstream.on_key(
        GOOD,
        [
            Reply::anthropic_stream("Hello brave world").cut_after(4),
            Reply::anthropic_stream("again"),
        ],
    );
    let gateway = anthropic_gateway(&upstream, &[GOOD], "").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("the stream ends cleanly");
    let names = events(&body);
    assert_eq!(names.first().map(String::as_str), Some("message_start"));
    assert_eq!(names.last().map(String::as_str), Some("error"), "{body}");
    assert!(body.contains("\"type\":\"api_error\""), "{body}");
    // The failure counts against the key (reported as the stream ends).
    let pool = gateway
        .live
        .gateway()
        .registry
        .get("anthropic")
        .unwrap()
        .pool
        .clone();
    let transient = || {
        pool.snapshot()[0]
            .outcomes
            .get(keypool::OutcomeClass::Transient)
    };
    eventually(
        "the broken stream counted against its key",
        Duration::from_secs(5),
        || transient() > 0,
    )
    .await;
    assert_eq!(transient(), 1);
}

#[tokio::test]
async fn a_stream_silent_after_content_ends_with_an_error_event() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::anthropic_stream("Hello brave world").stall_after(4)],
    );
    let gateway = anthropic_gateway(&upstream, &[GOOD], "[timeouts]\nidle = 0.3\n").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    let body = response.text().await.expect("the stream ends cleanly");
    assert_eq!(
        events(&body).last().map(String::as_str),
        Some("error"),
        "{body}"
    );
    assert!(body.contains("silent"), "{body}");
}

#[tokio::test]
async fn a_stream_that_breaks_before_its_first_event_fails_over() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::sse(vec![SseEvent::named("message_start", "{}")]).cut_after(0)],
    );
    upstream.on_key(GOOD, [Reply::anthropic_stream("ok")]);
    let gateway = anthropic_gateway(&upstream, &[LIMITED, GOOD], "").await;
    let response = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
}

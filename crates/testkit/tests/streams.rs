//! Streamed, cut, stalled, reset and hanging replies, through a real HTTP client.

mod support;

use std::time::Duration;

use bytes::Bytes;
use serde_json::json;
use support::{client, frames, hyper_cause, post, status_and_body};
use testkit::{eventually, FakeUpstream, Reply, SseEvent};

fn three_events() -> Vec<SseEvent> {
    vec![
        SseEvent::named("message_start", r#"{"n":1}"#),
        SseEvent::data("two\nlines"),
        SseEvent::named("message_stop", r#"{"n":3}"#),
    ]
}

/// The connection closed before the terminating chunk: what a cut stream looks like.
fn is_incomplete_chunked_body(error: &hyper::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
}

const THREE_EVENTS_WIRE: [&str; 3] = [
    "event: message_start\ndata: {\"n\":1}\n\n",
    "data: two\ndata: lines\n\n",
    "event: message_stop\ndata: {\"n\":3}\n\n",
];

#[tokio::test]
async fn sse_events_arrive_framed_one_chunk_each_with_a_clean_end() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::sse(three_events()).chunk_delay(Duration::from_millis(5))]);
    let response = post(&client(), &upstream.url("/v1/messages"), &[])
        .await
        .expect("response");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (chunks, end) = frames(response).await;
    assert_eq!(chunks, THREE_EVENTS_WIRE);
    end.expect("clean end of stream");
}

#[tokio::test]
async fn cut_after_sends_n_events_then_fails_the_body() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::sse(three_events()).cut_after(2)]);
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let (chunks, end) = frames(response).await;
    assert_eq!(chunks, THREE_EVENTS_WIRE[..2]);
    let error = end.expect_err("body must fail, not end cleanly");
    assert!(is_incomplete_chunked_body(&error), "{error:?}");
}

#[tokio::test]
async fn cut_after_zero_sends_headers_then_fails_the_body() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::ndjson([json!({"a": 1})]).cut_after(0)]);
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("headers arrive");
    let (chunks, end) = frames(response).await;
    assert!(chunks.is_empty(), "{chunks:?}");
    let error = end.expect_err("body must fail");
    assert!(is_incomplete_chunked_body(&error), "{error:?}");
}

#[tokio::test]
async fn ndjson_lines_arrive_one_chunk_each() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::ndjson([json!({"a": 1}), json!({"b": 2})])]);
    let response = post(&client(), &upstream.url("/api/chat"), &[])
        .await
        .expect("response");
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let (chunks, end) = frames(response).await;
    assert_eq!(chunks, ["{\"a\":1}\n", "{\"b\":2}\n"]);
    end.expect("clean end");
}

#[tokio::test]
async fn sse_fixture_is_streamed_event_by_event() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::fixture(200, "fixtures/test/anthropic_hi.sse").cut_after(3)]);
    let response = post(&client(), &upstream.url("/v1/messages"), &[])
        .await
        .expect("response");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (chunks, end) = frames(response).await;
    assert_eq!(chunks.len(), 3);
    assert!(chunks[2].starts_with(b"event: content_block_delta\n"));
    assert!(end.is_err());
}

#[tokio::test(start_paused = true)]
async fn stall_after_sends_n_events_then_keeps_the_connection_silent() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::sse(three_events()).stall_after(1)]);
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("response");
    let mut body = response.into_body();
    let first = http_body_util::BodyExt::frame(&mut body).await;
    let first = first
        .expect("a frame")
        .expect("not an error")
        .into_data()
        .ok();
    assert_eq!(first, Some(Bytes::from(THREE_EVENTS_WIRE[0])));
    // The clock is paused: this hour passes at once unless a frame arrives.
    let next = tokio::time::timeout(
        Duration::from_secs(3600),
        http_body_util::BodyExt::frame(&mut body),
    )
    .await;
    assert!(next.is_err(), "stream should stall, got {next:?}");
}

#[tokio::test(start_paused = true)]
async fn chunk_delay_spaces_events_on_the_tokio_clock() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::sse(three_events()).chunk_delay(Duration::from_secs(10))]);
    let started = tokio::time::Instant::now();
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("response");
    let (chunks, end) = frames(response).await;
    end.expect("clean end");
    assert_eq!(chunks.len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key("sk-a", [Reply::reset(), Reply::json(200, json!({}))]);
    let client = client();
    let url = upstream.url("/v1/messages");
    let error = post(&client, &url, &[("x-api-key", "sk-a")])
        .await
        .expect_err("a reset is a connection error, not a status");
    assert!(!error.is_connect(), "the connection was made: {error:?}");
    let cause = hyper_cause(&error).expect("a hyper error underneath");
    assert!(cause.is_incomplete_message(), "{cause:?}");
    // The script goes on: the next request gets the next reply.
    let response = post(&client, &url, &[("x-api-key", "sk-a")])
        .await
        .expect("response");
    assert_eq!(status_and_body(response).await.0, 200);
    assert_eq!(upstream.hits("sk-a"), 2);
}

#[tokio::test]
async fn hang_never_answers_until_the_upstream_is_dropped() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::hang()]);
    let url = upstream.url("/");
    let mut pending = tokio::spawn(async move { post(&client(), &url, &[]).await });
    eventually("the request to arrive", Duration::from_secs(5), || {
        upstream.total_hits() == 1
    })
    .await;
    // Proving a negative takes a window: nothing answers in this one.
    let waited = tokio::time::timeout(Duration::from_millis(200), &mut pending).await;
    assert!(
        waited.is_err(),
        "a hanging reply must not answer: {waited:?}"
    );
    drop(upstream);
    let outcome = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("dropping the upstream releases the request")
        .expect("task");
    assert!(
        outcome.is_err(),
        "no response, only a closed connection: {outcome:?}"
    );
}

#[tokio::test]
async fn anthropic_stream_error_is_a_200_stream_with_an_error_event() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::anthropic_stream_error(
        "overloaded_error",
        "Overloaded",
    )]);
    let response = post(&client(), &upstream.url("/v1/messages"), &[])
        .await
        .expect("response");
    let (status, body) = status_and_body(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        "event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"},\"type\":\"error\"}\n\n"
    );
}

#[tokio::test]
async fn then_repeat_generates_a_long_body_as_it_is_sent() {
    let upstream = FakeUpstream::start().await;
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    upstream.fallback([
        Reply::chunks(200, "application/json", ["{\"pad\":\""]).then_repeat(chunk, 160)
    ]);
    let response = post(&client(), &upstream.url("/"), &[])
        .await
        .expect("response");
    let (status, body) = status_and_body(response).await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), 8 + 160 * 64 * 1024);
    assert!(body.starts_with(b"{\"pad\":\"aaa") && body.ends_with(b"aaaa"));
    assert_eq!(upstream.abandoned(), 0, "read to its end");
}

#[tokio::test]
async fn a_client_leaving_mid_body_or_before_the_answer_is_counted_as_abandoned() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        "sk-endless",
        [Reply::sse(three_events())
            .then_repeat("data: more\n\n", u64::MAX)
            .chunk_delay(Duration::from_millis(5))],
    );
    upstream.on_key("sk-hang", [Reply::hang()]);
    upstream.on_key("sk-cut", [Reply::sse(three_events()).cut_after(1)]);
    let client = client();
    let url = upstream.url("/");
    let response = post(&client, &url, &[("x-api-key", "sk-endless")])
        .await
        .expect("response");
    let mut body = response.into_body();
    let first = http_body_util::BodyExt::frame(&mut body).await;
    assert!(first.is_some_and(|f| f.is_ok()));
    assert_eq!(upstream.abandoned(), 0, "still being read");
    drop(body);
    eventually(
        "the endless body to be abandoned",
        Duration::from_secs(5),
        || upstream.abandoned() == 1,
    )
    .await;

    let hanging = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move { post(&client, &url, &[("x-api-key", "sk-hang")]).await }
    });
    eventually(
        "the hanging request to arrive",
        Duration::from_secs(5),
        || upstream.hits("sk-hang") == 1,
    )
    .await;
    hanging.abort();
    eventually(
        "the unanswered request to be abandoned",
        Duration::from_secs(5),
        || upstream.abandoned() == 2,
    )
    .await;

    // A scripted cut is the fake's own doing.
    let response = post(&client, &url, &[("x-api-key", "sk-cut")])
        .await
        .expect("response");
    let (_, end) = frames(response).await;
    assert!(end.is_err());
    let whole = post(&client, &url, &[]).await.expect("response");
    assert_eq!(status_and_body(whole).await.0, 200);
    assert_eq!(upstream.abandoned(), 2);
}

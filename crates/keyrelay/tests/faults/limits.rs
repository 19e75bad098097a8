//! The gateway's own limits: requests in flight, idle connections, HTTP/2,
//! and a stop that lets requests in flight finish.

use std::time::Duration;

use testkit::{eventually, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

/// A stream of `n` deltas, one every `every`.
fn slow_stream(n: usize, every: Duration) -> Reply {
    let events = testkit::anthropic_stream_events("Hello");
    let delta = events
        .iter()
        .find(|e| e.encode().starts_with(b"event: content_block_delta"))
        .expect("a delta")
        .encode();
    let tail: Vec<_> = events
        .iter()
        .skip_while(|e| !e.encode().starts_with(b"event: content_block_stop"))
        .map(|e| e.encode())
        .collect();
    let mut chunks: Vec<_> = events[..3].iter().map(|e| e.encode()).collect();
    chunks.extend(std::iter::repeat_n(delta, n));
    chunks.extend(tail);
    Reply::chunks(200, "text/event-stream", chunks).chunk_delay(every)
}

#[tokio::test]
async fn requests_beyond_the_limit_are_a_503_in_the_clients_shape_and_health_still_answers() {
    let rig = Rig::start("[server]\nmax_concurrent_requests = 2\n").await;
    rig.upstream
        .on_key(ANTHROPIC, [slow_stream(10_000, Duration::from_millis(20))]);
    // Two streams hold both slots once their handlers have returned.
    let mut first = rig
        .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
        .await;
    let second = rig
        .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
        .await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    first.chunk().await.unwrap().expect("the stream is on");

    let started = tokio::time::Instant::now();
    let native = rig
        .post(
            "/v1/messages",
            &message_request("steady@claude-sonnet-4-5", false),
        )
        .await;
    assert_eq!(native.headers()["retry-after"], "1");
    let (kind, message) = anthropic_error(native, 503).await;
    assert_eq!(kind, "overloaded_error");
    assert!(message.contains("max_concurrent_requests"), "{message}");
    for path in ["/p/openai/chat/completions", "/v1/chat/completions"] {
        let openai = rig.post(path, &chat_request(false)).await;
        assert_eq!(openai.headers()["retry-after"], "1");
        assert_eq!(
            openai_error(openai, 503).await.0,
            "overloaded_error",
            "{path}"
        );
    }
    let gemini = rig
        .post(
            "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            &json!({"contents": []}),
        )
        .await;
    assert_eq!(gemini_error(gemini, 503).await.0, "UNAVAILABLE");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once"
    );
    let health = client().get(rig.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(rig.upstream.hits(OPENAI) + rig.upstream.hits(GEMINI), 0);

    // A stream gives its slot back when its client leaves.
    drop(first);
    drop(second);
    eventually("the slots free again", Duration::from_secs(5), || {
        rig.upstream.abandoned() == 2
    })
    .await;
    rig.bystander().await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_but_a_long_quiet_stream_is_not() {
    let rig = Rig::start("[server]\nidle_timeout = 0.3\nheader_read_timeout = 30\n").await;
    rig.upstream
        .on_key(ANTHROPIC, [slow_stream(12, Duration::from_millis(100))]);
    rig.alongside(async {
        // Far longer than the idle timeout, but a request is in flight.
        let streamed = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
            .await;
        let body = streamed.text().await.expect("the whole stream");
        assert_eq!(
            events(&body).last().map(String::as_str),
            Some("message_stop")
        );

        // A keep-alive connection after its answer, and one that never sends.
        let mut used = TcpStream::connect(rig.gateway.addr).await.unwrap();
        used.write_all(b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut silent = TcpStream::connect(rig.gateway.addr).await.unwrap();
        let started = tokio::time::Instant::now();
        let mut answer = vec![0u8; 4096];
        let n = used.read(&mut answer).await.unwrap();
        assert!(answer[..n].starts_with(b"HTTP/1.1 200"));
        for connection in [&mut used, &mut silent] {
            let closed = tokio::time::timeout(Duration::from_secs(3), async {
                loop {
                    match connection.read(&mut answer).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            assert!(closed.is_ok(), "an idle connection stays open");
        }
        assert!(started.elapsed() >= Duration::from_millis(250));
    })
    .await;
}

#[tokio::test]
async fn http2_clients_are_served_within_the_same_limits() {
    let rig = Rig::start("[server]\nmax_header_bytes = 16384\n").await;
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("over h2")]);
    let h2 = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    rig.alongside(async {
        let response = h2
            .post(rig.url("/v1/messages"))
            .json(&message_request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        let big = h2
            .get(rig.url("/health"))
            .header("x-big", "a".repeat(32 * 1024))
            .send()
            .await
            .unwrap();
        assert_eq!(
            big.status(),
            431,
            "the stream is refused, not the connection"
        );
        let health = h2.get(rig.url("/health")).send().await.unwrap();
        assert_eq!(health.status(), 200, "the connection serves on");
    })
    .await;
}

#[tokio::test]
async fn stopping_lets_a_stream_in_flight_finish_and_refuses_new_connections() {
    let Rig { upstream, gateway } = Rig::start("").await;
    upstream.on_key(ANTHROPIC, [slow_stream(8, Duration::from_millis(50))]);
    let addr = gateway.addr;
    let streamed = client()
        .post(format!("{}/v1/messages", gateway.url()))
        .json(&message_request("claude-sonnet-4-5", true))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 200);
    let stopping = tokio::spawn(gateway.stop());
    let body = streamed.text().await.expect("the stream runs to its end");
    assert_eq!(
        events(&body).last().map(String::as_str),
        Some("message_stop")
    );
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("stopped once the stream ended")
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    assert_eq!(upstream.abandoned(), 0);
}

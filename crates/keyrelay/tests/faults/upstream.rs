//! Upstreams that misbehave: resets, silence before headers or mid-stream,
//! broken JSON and SSE, and answers far larger than memory should hold.

use std::time::Duration;

use bytes::Bytes;
use testkit::{eventually, Reply};

use super::*;

/// One attempt per request: these cases are about what the client gets.
const ONE_ATTEMPT: &str = "[pool]\nsame_key_retries = 0\n";

#[tokio::test]
async fn an_upstream_that_resets_the_connection_is_a_502_in_the_clients_shape() {
    let rig = Rig::start(ONE_ATTEMPT).await;
    rig.upstream.on_key(ANTHROPIC, [Reply::reset()]);
    rig.upstream.on_key(OPENAI, [Reply::reset()]);
    rig.alongside(async {
        let native = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", false))
            .await;
        let (kind, message) = anthropic_error(native, 502).await;
        assert_eq!(kind, "api_error");
        assert!(
            message.contains("anthropic could not serve it"),
            "{message}"
        );
        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", true))
            .await;
        assert_eq!(anthropic_error(translated, 502).await.0, "api_error");
        let passthrough = rig
            .post("/p/openai/chat/completions", &chat_request(false))
            .await;
        assert_eq!(openai_error(passthrough, 502).await.0, "api_error");
    })
    .await;
}

#[tokio::test]
async fn an_upstream_silent_before_its_headers_is_a_504_and_its_request_is_dropped() {
    let rig = Rig::start(&format!("{ONE_ATTEMPT}[timeouts]\nfirst_byte = 0.3\n")).await;
    rig.upstream.on_key(ANTHROPIC, [Reply::hang()]);
    rig.upstream.on_key(GEMINI, [Reply::hang()]);
    rig.alongside(async {
        let streamed = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
            .await;
        let (kind, message) = anthropic_error(streamed, 504).await;
        assert_eq!(kind, "api_error");
        assert!(message.contains("in time"), "{message}");
        let gemini = rig
            .post(
                "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
                &json!({"contents": [{"parts": [{"text": "hi"}]}]}),
            )
            .await;
        gemini_error(gemini, 504).await;
    })
    .await;
    // The gateway gave up on both requests: it closed their connections.
    eventually("both hung requests dropped", Duration::from_secs(5), || {
        rig.upstream.abandoned() == 2
    })
    .await;
}

#[tokio::test]
async fn an_upstream_that_stalls_mid_stream_ends_the_clients_stream_cleanly() {
    let rig = Rig::start("[timeouts]\nidle = 0.3\n").await;
    // message_start, content_block_start, ping, then silence.
    rig.upstream.on_key(
        ANTHROPIC,
        [Reply::anthropic_stream("Hello brave world").stall_after(4)],
    );
    rig.upstream.on_key(
        OPENAI,
        [Reply::openai_chat_stream("one two three").stall_after(2)],
    );
    rig.alongside(async {
        let native = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
            .await;
        assert_eq!(native.status(), 200);
        let body = native.text().await.expect("a clean end, not a broken body");
        let names = events(&body);
        assert_eq!(names.first().map(String::as_str), Some("message_start"));
        assert_eq!(names.last().map(String::as_str), Some("error"), "{body}");
        assert!(body.contains("silent"), "{body}");

        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", true))
            .await;
        assert_eq!(translated.status(), 200);
        let body = translated.text().await.expect("a clean end");
        let names = events(&body);
        assert_eq!(names.last().map(String::as_str), Some("error"), "{body}");
        assert!(names.contains(&"content_block_stop".to_owned()), "{body}");

        let passthrough = rig
            .post("/p/openai/chat/completions", &chat_request(true))
            .await;
        assert_eq!(passthrough.status(), 200);
        let body = passthrough.text().await.expect("a clean end");
        let last = body.trim_end().lines().last().unwrap_or_default();
        let error: Value = serde_json::from_str(last.trim_start_matches("data: ")).unwrap();
        assert!(error["error"]["message"].as_str().is_some(), "{body}");
    })
    .await;
    eventually(
        "the stalled streams dropped",
        Duration::from_secs(5),
        || rig.upstream.abandoned() == 3,
    )
    .await;
}

#[tokio::test]
async fn invalid_json_in_a_200_is_a_502_when_translated_and_passed_on_when_native() {
    let rig = Rig::start(ONE_ATTEMPT).await;
    let broken = "{\"id\":\"chatcmpl-1\",\"choices\":[{\"message\":{\"content\":\"hi";
    rig.upstream
        .on_key(OPENAI, [Reply::raw(200, "application/json", broken)]);
    rig.upstream
        .on_key(ANTHROPIC, [Reply::raw(200, "application/json", broken)]);
    rig.alongside(async {
        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", false))
            .await;
        let (kind, message) = anthropic_error(translated, 502).await;
        assert_eq!(kind, "api_error");
        assert!(message.contains("could not translate"), "{message}");
        // A native answer is the provider's to judge: passed on as sent.
        let native = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", false))
            .await;
        assert_eq!(native.status(), 200);
        assert_eq!(native.text().await.unwrap(), broken);
    })
    .await;
}

#[tokio::test]
async fn garbage_instead_of_sse_is_a_502_and_garbage_inside_a_stream_ends_it_cleanly() {
    let rig = Rig::start(ONE_ATTEMPT).await;
    let garbage = [
        "this is not sse\n",
        "{\"nor\": \"this\"}\n",
        "\n",
        "\u{1}\u{2}\n\n",
    ];
    rig.upstream.on_key(
        ANTHROPIC,
        [Reply::chunks(200, "text/event-stream", garbage)],
    );
    let first = testkit::openai_chat_stream_events("Hi")[0].encode();
    rig.upstream.on_key(
        OPENAI,
        [Reply::chunks(
            200,
            "text/event-stream",
            [
                first,
                Bytes::from("data: {not json\n\n"),
                Bytes::from("garbage\n\n"),
            ],
        )],
    );
    rig.alongside(async {
        let native = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
            .await;
        let (kind, message) = anthropic_error(native, 502).await;
        assert_eq!(kind, "api_error");
        assert!(message.contains("before its first event"), "{message}");

        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", true))
            .await;
        assert_eq!(translated.status(), 200);
        let body = translated.text().await.expect("a clean end");
        let names = events(&body);
        assert_eq!(names.first().map(String::as_str), Some("message_start"));
        assert_eq!(names.last().map(String::as_str), Some("error"), "{body}");
    })
    .await;
}

#[tokio::test]
async fn an_sse_event_larger_than_the_decoders_cap_ends_the_stream_and_its_upstream() {
    // Megabytes of one event are held: not while another test measures memory.
    let _heavy = HEAVY.lock().await;
    let rig = Rig::start(ONE_ATTEMPT).await;
    let filler = Bytes::from(vec![b'x'; 64 * 1024]);
    // A first event of 2 MiB, over the 1 MiB keyrelay holds before answering.
    rig.upstream.on_key(
        ANTHROPIC,
        [
            Reply::chunks(200, "text/event-stream", ["event: message_start\ndata: "])
                .then_repeat(filler.clone(), 32),
        ],
    );
    // A good first event, then one that never ends (the decoder stops at 8 MiB).
    let first = testkit::openai_chat_stream_events("Hi")[0].encode();
    rig.upstream.on_key(
        OPENAI,
        [
            Reply::chunks(200, "text/event-stream", [first, Bytes::from("data: ")])
                .then_repeat(filler, u64::MAX),
        ],
    );
    rig.alongside(async {
        let native = rig
            .post("/v1/messages", &message_request("claude-sonnet-4-5", true))
            .await;
        let (kind, message) = anthropic_error(native, 502).await;
        assert_eq!(kind, "api_error");
        assert!(message.contains("larger than"), "{message}");

        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", true))
            .await;
        assert_eq!(translated.status(), 200);
        let body = tokio::time::timeout(Duration::from_secs(10), translated.text())
            .await
            .expect("the stream ends once its event is too large")
            .expect("a clean end");
        assert_eq!(
            events(&body).last().map(String::as_str),
            Some("error"),
            "{body}"
        );
        assert!(body.contains("larger than"), "{body}");
    })
    .await;
    eventually("the endless stream dropped", Duration::from_secs(5), || {
        rig.upstream.abandoned() >= 1
    })
    .await;
}

/// 1 GiB of JSON-ish bytes, made as they are sent.
fn gigabyte() -> Reply {
    Reply::chunks(200, "application/json", ["{\"pad\":\""])
        .then_repeat(Bytes::from(vec![b'a'; 64 * 1024]), 16 * 1024)
}

#[tokio::test]
async fn a_gigabyte_answer_streams_through_in_bounded_memory_and_stops_when_the_client_leaves() {
    let _heavy = HEAVY.lock().await;
    let rig = Rig::start("[limits]\nmax_response_bytes = 1048576\n").await;
    rig.upstream.on_key(ANTHROPIC, [gigabyte()]);
    let memory = MemoryWatch::start();
    let read = rig
        .alongside(async {
            let mut response = rig
                .post("/v1/messages", &message_request("claude-sonnet-4-5", false))
                .await;
            assert_eq!(response.status(), 200);
            let mut read = 0usize;
            let mut start = Vec::new();
            while read < 64 * 1024 * 1024 {
                let chunk = response.chunk().await.expect("bytes keep coming");
                let chunk = chunk.expect("not the end of a gigabyte");
                if start.len() < 16 {
                    start.extend_from_slice(&chunk[..chunk.len().min(16)]);
                }
                read += chunk.len();
            }
            assert!(start.starts_with(b"{\"pad\":\"aaaaaaaa"), "{start:?}");
            read
        })
        .await;
    let grown = memory.peak_growth_mib();
    assert!(read >= 64 << 20);
    assert!(
        grown < 32,
        "resident memory peaked {grown} MiB higher while 64 MiB streamed through"
    );
    // The client went away: the gateway stops reading, long before 1 GiB.
    eventually(
        "the upstream answer dropped",
        Duration::from_secs(10),
        || rig.upstream.abandoned() == 1,
    )
    .await;
}

#[tokio::test]
async fn a_gigabyte_answer_to_translate_is_a_clean_502_without_reading_it_all() {
    let _heavy = HEAVY.lock().await;
    let rig = Rig::start("[limits]\nmax_response_bytes = 1048576\n").await;
    rig.upstream.on_key(OPENAI, [gigabyte()]);
    let memory = MemoryWatch::start();
    rig.alongside(async {
        let translated = rig
            .post("/v1/messages", &message_request("openai@gpt-4.1", false))
            .await;
        let (kind, message) = anthropic_error(translated, 502).await;
        assert_eq!(kind, "api_error");
        assert!(message.contains("max_response_bytes"), "{message}");
    })
    .await;
    let grown = memory.peak_growth_mib();
    assert!(grown < 32, "resident memory peaked {grown} MiB higher");
    eventually(
        "the upstream answer dropped",
        Duration::from_secs(10),
        || rig.upstream.abandoned() == 1,
    )
    .await;
}

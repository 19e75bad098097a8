//! Clients that misbehave: broken JSON, wrong content types, huge bodies and
//! headers, headers a byte at a time, and clients that leave half way.

use std::time::Duration;

use testkit::{eventually, Reply};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

#[tokio::test]
async fn malformed_json_is_a_400_in_anthropic_shape() {
    let rig = Rig::start("").await;
    let nested = "[".repeat(100_000);
    let bodies: Vec<Vec<u8>> = vec![
        b"{\"model\": \"claude-sonnet-4-5\", \"messages\": [".to_vec(),
        b"\xff\xfe{\"model\": \"\xc3\x28\"}".to_vec(),
        nested.into_bytes(),
        b"{\"model\": \"claude-sonnet-4-5\", \"messages\": []} trailing".to_vec(),
        b"\0\0\0\0".to_vec(),
        Vec::new(),
    ];
    rig.alongside(async {
        for body in bodies {
            for path in ["/v1/messages", "/v1/messages/count_tokens"] {
                let response = client()
                    .post(rig.url(path))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let (kind, message) = anthropic_error(response, 400).await;
                assert_eq!(kind, "invalid_request_error", "{path}: {message}");
            }
        }
    })
    .await;
    assert_eq!(rig.upstream.hits(ANTHROPIC), 0);
}

#[tokio::test]
async fn a_json_body_is_read_as_json_whatever_its_content_type_and_anything_else_is_a_400() {
    let rig = Rig::start("").await;
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("read anyway")]);
    let json = message_request("claude-sonnet-4-5", false).to_string();
    rig.alongside(async {
        // curl without -H sends a form content type: JSON is still JSON.
        for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
            let mut request = client().post(rig.url("/v1/messages")).body(json.clone());
            if !content_type.is_empty() {
                request = request.header("content-type", content_type);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{content_type:?}");
        }
        for (content_type, body) in [
            (
                "application/x-www-form-urlencoded",
                "model=claude-sonnet-4-5&max_tokens=5",
            ),
            (
                "multipart/form-data; boundary=x",
                "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nclaude\r\n--x--\r\n",
            ),
            ("application/xml", "<model>claude-sonnet-4-5</model>"),
        ] {
            let response = client()
                .post(rig.url("/v1/messages"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let (kind, message) = anthropic_error(response, 400).await;
            assert_eq!(kind, "invalid_request_error");
            assert!(message.contains("JSON"), "{message}");
        }
    })
    .await;
    assert_eq!(rig.upstream.hits(ANTHROPIC), 3);
}

/// Sends `head` and then `total` bytes of body as fast as the gateway takes
/// them, while reading its answer. Returns the answer, and how much of the
/// body had been written when the answer's first byte came back.
async fn upload(rig: &Rig, head: String, total: usize) -> (String, usize) {
    let stream = TcpStream::connect(rig.gateway.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = written.clone();
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            writer.write_all(&chunk[..n]).await?;
            sent += n;
            counter.store(sent, std::sync::atomic::Ordering::SeqCst);
        }
        Ok::<_, std::io::Error>(())
    });
    let mut answer = Vec::new();
    let mut buf = vec![0; 16 * 1024];
    let mut at_first_byte = None;
    loop {
        match tokio::time::timeout(Duration::from_secs(20), reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                at_first_byte.get_or_insert(written.load(std::sync::atomic::Ordering::SeqCst));
                answer.extend_from_slice(&buf[..n]);
            }
            Err(_) => panic!("no answer to the upload within 20 s"),
        }
    }
    sending.abort();
    (
        String::from_utf8_lossy(&answer).into_owned(),
        at_first_byte.unwrap_or(total),
    )
}

pub fn upload_head(path: &str, content_length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {content_length}\r\n\r\n"
    )
}

/// The JSON body of a raw HTTP answer.
pub fn answer_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[tokio::test]
async fn a_100_mb_body_is_a_413_in_the_clients_shape_without_being_read_whole() {
    let _heavy = HEAVY.lock().await;
    let rig = Rig::start("[server]\nmax_body_bytes = 4194304\n").await;
    let hundred_mb = 100 * 1024 * 1024;
    let memory = MemoryWatch::start();
    rig.alongside(async {
        let (answer, written) =
            upload(&rig, upload_head("/v1/messages", hundred_mb), hundred_mb).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        let body = answer_json(&answer);
        assert_eq!(body["type"], "error");
        assert_eq!(body["error"]["type"], "request_too_large");
        assert!(written < hundred_mb / 2, "answered after {written} bytes");

        let path = "/p/openai/chat/completions";
        let (answer, _) = upload(&rig, upload_head(path, hundred_mb), hundred_mb).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        let body = answer_json(&answer);
        assert_eq!(body["error"]["type"], "request_too_large", "{body}");
        assert!(
            body["error"].get("param").is_some(),
            "OpenAI's shape: {body}"
        );
    })
    .await;
    let grown = memory.peak_growth_mib();
    assert!(grown < 32, "resident memory peaked {grown} MiB higher");
    assert_eq!(rig.upstream.hits(ANTHROPIC) + rig.upstream.hits(OPENAI), 0);
}

#[tokio::test]
async fn headers_too_large_or_too_many_are_a_431() {
    let rig = Rig::start("[server]\nmax_header_bytes = 16384\nmax_headers = 50\n").await;
    let head = |headers: String| {
        format!("GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}connection: close\r\n\r\n")
    };
    rig.alongside(async {
        let big = head(format!("x-big: {}\r\n", "a".repeat(20 * 1024)));
        let (answer, _) = upload(&rig, big, 0).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        let many = head((0..60).map(|i| format!("x-h{i}: v\r\n")).collect());
        let (answer, _) = upload(&rig, many, 0).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        // Within the limits, the same request is served.
        let fine = head(format!("x-big: {}\r\n", "a".repeat(8 * 1024)));
        let (answer, _) = upload(&rig, fine, 0).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    })
    .await;
}

#[tokio::test]
async fn a_client_sending_headers_a_byte_at_a_time_is_cut_off() {
    let rig = Rig::start("[server]\nheader_read_timeout = 0.3\n").await;
    let slow_client = || async {
        let mut stream = TcpStream::connect(rig.gateway.addr).await.unwrap();
        let started = tokio::time::Instant::now();
        let head =
            b"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n";
        let mut buf = [0u8; 1024];
        for byte in head.iter().cycle() {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            // A read that ends says the gateway closed the connection.
            match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => break,
                Ok(Ok(n)) => panic!("answered: {}", String::from_utf8_lossy(&buf[..n])),
                Err(_) => {}
            }
            assert!(started.elapsed() < Duration::from_secs(5), "never cut off");
        }
        started.elapsed()
    };
    let cut_after = rig
        .alongside(futures_util::future::join_all(
            (0..10).map(|_| slow_client()),
        ))
        .await;
    for elapsed in cut_after {
        assert!(
            elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
            "cut off after {elapsed:?}"
        );
    }
}

/// An endless stream: its first events, then a delta every 20 ms.
fn endless_anthropic_stream() -> Reply {
    let events = testkit::anthropic_stream_events("Hello");
    let delta = events
        .iter()
        .find(|e| e.encode().starts_with(b"event: content_block_delta"))
        .expect("a delta")
        .encode();
    Reply::sse(events[..3].to_vec())
        .then_repeat(delta, u64::MAX)
        .chunk_delay(Duration::from_millis(20))
}

fn endless_openai_stream() -> Reply {
    let events = testkit::openai_chat_stream_events("Hello");
    Reply::sse(events[..1].to_vec())
        .then_repeat(events[1].encode(), u64::MAX)
        .chunk_delay(Duration::from_millis(20))
}

#[tokio::test]
async fn a_client_leaving_mid_stream_cancels_its_upstream_request() {
    let rig = Rig::start("").await;
    rig.upstream.on_key(ANTHROPIC, [endless_anthropic_stream()]);
    rig.upstream.on_key(OPENAI, [endless_openai_stream()]);
    rig.alongside(async {
        for (model, abandoned) in [("claude-sonnet-4-5", 1), ("openai@gpt-4.1", 2)] {
            let mut response = rig
                .post("/v1/messages", &message_request(model, true))
                .await;
            assert_eq!(response.status(), 200);
            for _ in 0..3 {
                response.chunk().await.unwrap().expect("the stream goes on");
            }
            assert_eq!(rig.upstream.abandoned(), abandoned - 1, "{model}");
            drop(response);
            eventually(
                "the upstream stream dropped",
                Duration::from_secs(5),
                || rig.upstream.abandoned() == abandoned,
            )
            .await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_client_leaving_before_the_answer_cancels_its_upstream_request() {
    let rig = Rig::start("").await;
    rig.upstream.on_key(ANTHROPIC, [Reply::hang()]);
    rig.upstream.on_key(OPENAI, [Reply::hang()]);
    rig.alongside(async {
        for (model, key, abandoned) in [
            ("claude-sonnet-4-5", ANTHROPIC, 1),
            ("openai@gpt-4.1", OPENAI, 2),
        ] {
            let url = rig.url("/v1/messages");
            let waiting = tokio::spawn(async move {
                client()
                    .post(url)
                    .json(&message_request(model, false))
                    .send()
                    .await
            });
            eventually("the request upstream", Duration::from_secs(5), || {
                rig.upstream.hits(key) == 1
            })
            .await;
            assert_eq!(rig.upstream.abandoned(), abandoned - 1);
            // The first-byte timeout is minutes away: only the client's leaving ends this.
            waiting.abort();
            eventually(
                "the upstream request dropped",
                Duration::from_secs(5),
                || rig.upstream.abandoned() == abandoned,
            )
            .await;
        }
    })
    .await;
}

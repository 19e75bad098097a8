//! Clients out to hurt a shared gateway: bodies that stall or trickle (a
//! `408` in the client's shape, and the slot given back), a declared length
//! over the limit (a `413` before any of the body is sent), request
//! smuggling, deeply nested JSON and bodies that are not UTF-8. Raw TCP
//! where an HTTP client library would not send such a request.

use std::time::Duration;

use futures_util::future::join_all;
use testkit::eventually_async;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::clients::{answer_json, upload_head};
use super::*;

/// Bound on an answer due at once, or after a sub-second timeout.
const WITHIN: Duration = Duration::from_secs(5);

const MESSAGES: &str = "/v1/messages";
const GEMINI_PATH: &str = "/v1beta/models/gemini-2.5-flash:generateContent";

/// A connection that has sent `bytes`, then nothing.
async fn sent(rig: &Rig, bytes: impl AsRef<[u8]>) -> TcpStream {
    let mut stream = TcpStream::connect(rig.gateway.addr).await.unwrap();
    stream.write_all(bytes.as_ref()).await.unwrap();
    stream
}

/// One answer on `stream`: its head and the body its content-length says.
async fn answer(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let read = tokio::time::timeout(WITHIN, async {
        while !complete(&got) {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(read.is_ok(), "no answer within {WITHIN:?}, only {text:?}");
    text
}

/// Whether `got` holds an answer's head and the body it announces.
fn complete(got: &[u8]) -> bool {
    let text = String::from_utf8_lossy(got);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    length.is_some_and(|n| body.len() >= n)
}

/// What else `stream` carries until the gateway closes it.
async fn rest_until_closed(stream: &mut TcpStream) -> String {
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(WITHIN, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the gateway keeps the connection open");
    String::from_utf8_lossy(&rest).into_owned()
}

/// Whose error shape `body` has.
fn shape(body: &Value) -> &'static str {
    let error = &body["error"];
    if body["type"] == "error" && error["type"].is_string() {
        "anthropic"
    } else if error["type"].is_string() && error.get("param").is_some() {
        "openai"
    } else if error["status"].is_string() && error["code"].is_u64() {
        "gemini"
    } else {
        "unknown"
    }
}

/// Asserts a raw `answer` is `status` in `expected`'s error shape; returns
/// its message.
fn error_answer(answer: &str, status: u16, expected: &str) -> String {
    assert!(
        answer.starts_with(&format!("HTTP/1.1 {status} ")),
        "{expected}: {answer}"
    );
    let body = answer_json(answer);
    assert_eq!(shape(&body), expected, "{body}");
    if expected == "gemini" {
        assert_eq!(body["error"]["code"], status, "{body}");
    }
    body["error"]["message"].as_str().unwrap().to_owned()
}

/// A head announcing 100 bytes of body, and the body's first byte.
fn stalled(path: &str) -> String {
    format!("{}{{", upload_head(path, 100))
}

#[tokio::test]
async fn stalled_bodies_are_a_408_and_give_their_slots_back() {
    let rig = Rig::start("[server]\nmax_concurrent_requests = 3\nbody_read_timeout = 0.5\n").await;
    let started = Instant::now();
    let mut stalled = Vec::new();
    for tail in [
        "",
        "{",
        "{\"model\": \"claude-sonnet-4-5\", \"messages\": [",
    ] {
        stalled.push(sent(&rig, format!("{}{tail}", upload_head(MESSAGES, 100))).await);
    }
    let steady = message_request("steady@claude-sonnet-4-5", false);
    eventually_async("the stalled bodies hold every slot", WITHIN, || async {
        rig.post(MESSAGES, &steady).await.status() == 503
    })
    .await;
    for stream in &mut stalled {
        let message = error_answer(&answer(stream).await, 408, "anthropic");
        assert!(message.contains("body_read_timeout"), "{message}");
    }
    assert!(started.elapsed() >= Duration::from_millis(450));
    // The stalled clients are still there: the timeout freed the slots.
    rig.bystander().await;
    for stream in &mut stalled {
        assert_eq!(rest_until_closed(stream).await, "");
    }
    assert_eq!(rig.upstream.hits(ANTHROPIC), 0);
}

#[tokio::test]
async fn a_body_trickling_in_is_a_408_though_it_never_pauses_for_the_timeout() {
    let rig = Rig::start("[server]\nbody_read_timeout = 0.3\n").await;
    rig.alongside(async {
        let started = Instant::now();
        let stream = sent(&rig, upload_head("/v1/chat/completions", 100_000)).await;
        let (mut reader, mut writer) = stream.into_split();
        let trickle = tokio::spawn(async move {
            while writer.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let message = error_answer(&answer(&mut reader).await, 408, "openai");
        assert!(message.contains("body_read_timeout"), "{message}");
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
        trickle.abort();
    })
    .await;
    assert_eq!(rig.upstream.hits(OPENAI), 0);
}

#[tokio::test]
async fn a_stalled_body_is_a_408_in_each_clients_shape() {
    let rig = Rig::start("[server]\nbody_read_timeout = 0.3\n").await;
    let cases = [
        ("/v1/messages/count_tokens", "anthropic"),
        ("/v1/chat/completions", "openai"),
        ("/v1/responses", "openai"),
        (GEMINI_PATH, "gemini"),
        (
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            "gemini",
        ),
        ("/p/openai/chat/completions", "openai"),
        (
            "/p/gemini/v1beta/models/gemini-2.5-flash:generateContent",
            "gemini",
        ),
    ];
    let rig = &rig;
    rig.alongside(join_all(cases.map(|(path, expected)| async move {
        let mut stream = sent(rig, stalled(path)).await;
        let message = error_answer(&answer(&mut stream).await, 408, expected);
        assert!(message.contains("body_read_timeout"), "{path}: {message}");
    })))
    .await;
    let hits = [ANTHROPIC, OPENAI, GEMINI].map(|key| rig.upstream.hits(key));
    assert_eq!(hits, [0, 0, 0]);
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_a_413_before_the_body_is_sent() {
    let rig = Rig::start("[server]\nmax_body_bytes = 4096\n").await;
    let cases = [
        (MESSAGES, "anthropic"),
        ("/v1/chat/completions", "openai"),
        (GEMINI_PATH, "gemini"),
        ("/p/openai/chat/completions", "openai"),
    ];
    rig.alongside(async {
        for (path, expected) in cases {
            // Only the head: the answer cannot wait for the body.
            let mut stream = sent(&rig, upload_head(path, 100 * 1024 * 1024)).await;
            let message = error_answer(&answer(&mut stream).await, 413, expected);
            assert!(message.contains("4096"), "{path}: {message}");
            assert_eq!(rest_until_closed(&mut stream).await, "", "{path}");
        }
        // A body of exactly the limit is served.
        let mut body = message_request("steady@claude-sonnet-4-5", false).to_string();
        body.push_str(&" ".repeat(4096 - body.len()));
        let served = client()
            .post(rig.url(MESSAGES))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200);
    })
    .await;
    let hits = [ANTHROPIC, OPENAI, GEMINI].map(|key| rig.upstream.hits(key));
    assert_eq!(hits, [0, 0, 0]);
}

/// A request head with `headers` and then `body`.
fn raw_request(version: &str, headers: &str, body: &str) -> String {
    format!(
        "POST /v1/messages HTTP/{version}\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{headers}\r\n{body}"
    )
}

#[tokio::test]
async fn smuggled_requests_are_refused_and_never_reach_the_upstream() {
    let rig = Rig::start("").await;
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("smuggled")]);
    // A whole second request, hidden where a reader trusting the wrong
    // length would take it for the next one.
    let inner = message_request("claude-sonnet-4-5", false).to_string();
    let smuggled = format!("{}{inner}", upload_head(MESSAGES, inner.len()));
    let empty_chunked = format!("0\r\n\r\n{smuggled}");
    let te_and_cl = |te: &str, len: usize| {
        (
            format!("transfer-encoding: {te}\r\ncontent-length: {len}\r\n"),
            format!("content-length: {len}\r\ntransfer-encoding: {te}\r\n"),
        )
    };
    let (te_first, cl_first) = te_and_cl("chunked", empty_chunked.len());
    let (xchunked, _) = te_and_cl("xchunked", 2 + smuggled.len());
    let (identity, _) = te_and_cl("chunked, identity", 2 + smuggled.len());
    let braces = format!("{{}}{smuggled}");
    let cases = [
        ("1.1", cl_first, empty_chunked.clone()),
        ("1.1", te_first, empty_chunked.clone()),
        (
            "1.1",
            format!("content-length: 2\r\ncontent-length: {}\r\n", braces.len()),
            braces.clone(),
        ),
        ("1.1", xchunked, braces.clone()),
        ("1.1", identity, braces.clone()),
        (
            "1.0",
            "transfer-encoding: chunked\r\n".into(),
            empty_chunked,
        ),
    ];
    rig.alongside(async {
        for (version, headers, body) in cases {
            let mut stream = sent(&rig, raw_request(version, &headers, &body)).await;
            let first = answer(&mut stream).await;
            assert!(
                first.starts_with("HTTP/1.1 400 ") || first.starts_with("HTTP/1.0 400 "),
                "{headers}: {first}"
            );
            let rest = rest_until_closed(&mut stream).await;
            assert_eq!(rest, "", "{headers}: a second answer");
        }
    })
    .await;
    assert_eq!(rig.upstream.hits(ANTHROPIC), 0);
}

/// Each client API: its route, a model it forwards natively and one it
/// translates (none for Gemini's, whose model is in the path), the field
/// its conversation goes in, and its error shape.
const FRONTS: [(&str, &[&str], &str, &str); 4] = [
    (
        MESSAGES,
        &["claude-sonnet-4-5", "openai@gpt-4.1"],
        "messages",
        "anthropic",
    ),
    (
        "/v1/chat/completions",
        &["gpt-4.1", "claude-sonnet-4-5"],
        "messages",
        "openai",
    ),
    (
        "/v1/responses",
        &["gpt-4.1", "claude-sonnet-4-5"],
        "input",
        "openai",
    ),
    (GEMINI_PATH, &[], "contents", "gemini"),
];

/// A request to each of `models` (or one without a model) with `value` as
/// its `field`: otherwise a request the front would serve.
fn requests(models: &[&str], field: &str, value: &[u8]) -> Vec<Vec<u8>> {
    let heads = match models {
        [] => vec![format!("{{\"{field}\": ")],
        _ => models
            .iter()
            .map(|m| format!("{{\"model\": \"{m}\", \"max_tokens\": 5, \"{field}\": "))
            .collect(),
    };
    heads
        .into_iter()
        .map(|head| [head.as_bytes(), value, b"}"].concat())
        .collect()
}

/// `body` posted to `path` as raw bytes.
async fn post_bytes(rig: &Rig, path: &str, body: Vec<u8>) -> String {
    let mut request = upload_head(path, body.len()).into_bytes();
    request.extend_from_slice(&body);
    answer(&mut sent(rig, request).await).await
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_in_each_clients_shape() {
    let rig = Rig::start("").await;
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    rig.alongside(async {
        for (path, models, field, expected) in FRONTS {
            // Whole, and inside a request that would otherwise be served
            // (forwarded as it is, where the provider speaks the API).
            let mut bodies = vec![arrays.clone().into_bytes(), objects.clone().into_bytes()];
            bodies.extend(requests(models, field, arrays.as_bytes()));
            for body in bodies {
                let message = error_answer(&post_bytes(&rig, path, body).await, 400, expected);
                assert!(message.contains("deep"), "{path}: {message}");
            }
        }
    })
    .await;
    assert_eq!(rig.upstream.total_hits(), rig.upstream.hits(STEADY));
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_400_in_each_clients_shape() {
    let rig = Rig::start("").await;
    rig.alongside(async {
        for (path, models, field, expected) in FRONTS {
            // "café" in a user turn: in UTF-8, then in Latin-1.
            let turn = |text: &[u8]| -> Vec<u8> {
                let (before, after): (&[u8], &[u8]) = match field {
                    "contents" => (
                        b"[{\"role\": \"user\", \"parts\": [{\"text\": \"",
                        b"\"}]}]",
                    ),
                    _ => (b"[{\"role\": \"user\", \"content\": \"", b"\"}]"),
                };
                [before, text, after].concat()
            };
            let native = requests(
                &models[..models.len().min(1)],
                field,
                &turn("café".as_bytes()),
            )
            .remove(0);
            let answer = post_bytes(&rig, path, native).await;
            assert!(answer.starts_with("HTTP/1.1 200 "), "{path}: {answer}");
            let mut bodies = vec![b"\xff\xfe\xfd".to_vec()];
            bodies.extend(requests(models, field, &turn(b"caf\xe9")));
            for body in bodies {
                let message = error_answer(&post_bytes(&rig, path, body).await, 400, expected);
                assert!(message.contains("UTF-8"), "{path}: {message}");
            }
        }
    })
    .await;
    // Only the UTF-8 requests, one a front, went upstream.
    let forwarded = rig.upstream.total_hits() - rig.upstream.hits(STEADY);
    assert_eq!(forwarded, FRONTS.len());
}

//! A minimal upstream on one thread: fixed answers, as fast as it can send
//! them, so what is measured is the gateway in front of it.
//!
//! - `POST …/messages`: an Anthropic message, or its SSE stream when the
//!   body asks for `"stream":true`;
//! - `POST …/chat/completions`: an OpenAI chat completion;
//! - `POST …:generateContent`: a Gemini answer;
//! - any request whose `x-bench-request` id it has not seen yet while
//!   `x-bench-fail-first` is set: a 429 with `retry-after: 0` (the client's
//!   retry of the same id, with another key, then succeeds);
//! - `x-bench-slow-stream: SECONDS`: an SSE stream with one event a second for
//!   that long (for memory under many open streams).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

const MESSAGE: &str = r#"{"id":"msg_bench","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":10}}"#;

const COMPLETION: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}"#;

const STREAM: &str = concat!(
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_bench\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n",
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello! How can I help you today?\"}}\n\n",
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":10}}\n\n",
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
);

const GEMINI: &str = r#"{"candidates":[{"content":{"parts":[{"text":"Hello! How can I help you today?"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":10,"totalTokenCount":22},"modelVersion":"gemini-2.5-pro"}"#;

const RATE_LIMITED: &str = r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}"#;

type Body = BoxBody<Bytes, Infallible>;

/// Serves on `listener` on the current (single-threaded) runtime, forever.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let seen: Arc<Mutex<HashSet<String>>> = Arc::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let seen = seen.clone();
        tokio::task::spawn_local(async move {
            let service = service_fn(move |request| answer(request, seen.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    seen: Arc<Mutex<HashSet<String>>>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if header("x-bench-fail-first").is_some() {
        let id = header("x-bench-request").unwrap_or_default().to_owned();
        let first = seen.lock().map(|mut s| s.insert(id)).unwrap_or(false);
        if first {
            let mut response = whole(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED);
            response
                .headers_mut()
                .insert("retry-after", http::HeaderValue::from_static("0"));
            return Ok(response);
        }
    }
    if let Some(secs) = header("x-bench-slow-stream").and_then(|s| s.parse::<u64>().ok()) {
        return Ok(slow_stream(secs));
    }
    let path = parts.uri.path();
    // A scan as fast as memchr's: big prompts are read whole here too.
    let streamed = memchr::memmem::find(&body, b"\"stream\":true").is_some();
    Ok(if path.ends_with("/chat/completions") {
        whole(StatusCode::OK, COMPLETION)
    } else if path.ends_with(":generateContent") {
        whole(StatusCode::OK, GEMINI)
    } else if streamed {
        sse(Full::new(Bytes::from_static(STREAM.as_bytes())).boxed())
    } else {
        whole(StatusCode::OK, MESSAGE)
    })
}

fn whole(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn sse(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    response
}

/// The stream's first events at once, then a text delta every second.
fn slow_stream(secs: u64) -> Response<Body> {
    let events = STREAM.split_inclusive("\n\n").collect::<Vec<_>>();
    let head = Bytes::from(events[..2].concat());
    let delta = Bytes::from_static(events[2].as_bytes());
    let tail = Bytes::from(events[3..].concat());
    let frames = stream::unfold(0u64, move |sent| {
        let (head, delta, tail) = (head.clone(), delta.clone(), tail.clone());
        async move {
            let chunk = match sent {
                0 => head,
                n if n <= secs => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    delta
                }
                n if n == secs + 1 => tail,
                _ => return None,
            };
            Some((Ok(Frame::data(chunk)), sent + 1))
        }
    });
    sse(StreamBody::new(frames).boxed())
}

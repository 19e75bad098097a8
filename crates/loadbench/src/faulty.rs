//! An upstream that misbehaves at random, for the soak: Anthropic Messages
//! (`…/messages`) and OpenAI Chat (`…/chat/completions`), whole or streamed,
//! and on a share of requests a fault: a rate limit, a server error, an
//! overload, a reset, silence before the headers or mid-stream, a body cut
//! half way, a body that is not JSON or not SSE, or a slow answer.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

type Body = BoxBody<Bytes, std::io::Error>;

/// What the fake did, counted.
#[derive(Default)]
pub struct Tally {
    pub requests: AtomicU64,
    /// Faults injected, by [`Fault`] index.
    pub faults: [AtomicU64; Fault::ALL.len()],
}

/// One way of answering. Weights are per thousand requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    RateLimited,
    ServerError,
    Overloaded,
    Reset,
    SilentHead,
    CutBody,
    StalledBody,
    NotJson,
    Slow,
}

impl Fault {
    pub const ALL: [(Fault, u32); 10] = [
        (Fault::None, 800),
        (Fault::RateLimited, 50),
        (Fault::ServerError, 30),
        (Fault::Overloaded, 20),
        (Fault::Reset, 20),
        (Fault::SilentHead, 10),
        (Fault::CutBody, 30),
        (Fault::StalledBody, 10),
        (Fault::NotJson, 20),
        (Fault::Slow, 10),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::RateLimited => "429 with retry-after: 1",
            Fault::ServerError => "500",
            Fault::Overloaded => "529 / 503 overloaded",
            Fault::Reset => "connection reset",
            Fault::SilentHead => "silent before headers",
            Fault::CutBody => "body cut half way",
            Fault::StalledBody => "silent mid-body",
            Fault::NotJson => "200 that is not JSON / not SSE",
            Fault::Slow => "slow answer",
        }
    }

    fn pick(rng: &mut fastrand::Rng) -> (usize, Fault) {
        let mut roll = rng.u32(0..1000);
        for (index, (fault, weight)) in Fault::ALL.iter().enumerate() {
            if roll < *weight {
                return (index, *fault);
            }
            roll -= weight;
        }
        (0, Fault::None)
    }
}

/// Serves on `listener` forever, counting into `tally`.
pub async fn serve(listener: TcpListener, tally: Arc<Tally>, seed: u64) -> anyhow::Result<()> {
    let rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (tally, rng) = (tally.clone(), rng.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, tally.clone(), rng.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn answer(
    request: Request<Incoming>,
    tally: Arc<Tally>,
    rng: Arc<Mutex<fastrand::Rng>>,
) -> Result<Response<Body>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    tally.requests.fetch_add(1, Ordering::Relaxed);
    let openai = parts.uri.path().ends_with("/chat/completions");
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return Ok(error(
            openai,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "not JSON",
        ));
    };
    let streamed = request["stream"] == serde_json::json!(true);
    let (index, fault) = match rng.lock() {
        Ok(mut rng) => Fault::pick(&mut rng),
        Err(_) => (0, Fault::None),
    };
    tally.faults[index].fetch_add(1, Ordering::Relaxed);
    let pieces = if openai {
        openai_pieces(streamed)
    } else {
        anthropic_pieces(streamed)
    };
    let content_type = if streamed {
        "text/event-stream"
    } else {
        "application/json"
    };
    Ok(match fault {
        Fault::None => chunked(content_type, pieces, None, End::Complete),
        Fault::RateLimited => {
            let mut response = error(
                openai,
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "Rate limit reached",
            );
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            response
        }
        Fault::ServerError => error(
            openai,
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "Internal server error",
        ),
        Fault::Overloaded if openai => error(
            true,
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "The engine is currently overloaded",
        ),
        Fault::Overloaded => error(
            false,
            StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "overloaded_error",
            "Overloaded",
        ),
        Fault::Reset => return Err(std::io::Error::other("soak: reset")),
        Fault::SilentHead => {
            // Far beyond keyrelay's first-byte timeout; it gives up first.
            tokio::time::sleep(Duration::from_secs(60)).await;
            chunked(content_type, pieces, None, End::Complete)
        }
        Fault::CutBody => {
            let half = pieces.len() / 2;
            chunked(content_type, pieces[..half.max(1)].to_vec(), None, End::Cut)
        }
        Fault::StalledBody => {
            let half = pieces.len() / 2;
            chunked(
                content_type,
                pieces[..half.max(1)].to_vec(),
                None,
                End::Stall,
            )
        }
        Fault::NotJson if streamed => chunked(
            content_type,
            vec![
                Bytes::from_static(b"garbage\n"),
                Bytes::from_static(b"data: {not json\n\n"),
            ],
            None,
            End::Complete,
        ),
        Fault::NotJson => chunked(
            content_type,
            vec![Bytes::from_static(b"{\"id\":\"msg_")],
            None,
            End::Complete,
        ),
        Fault::Slow => chunked(
            content_type,
            pieces,
            Some(Duration::from_millis(300)),
            End::Complete,
        ),
    })
}

#[derive(Clone, Copy)]
enum End {
    Complete,
    Cut,
    Stall,
}

/// `pieces` as a chunked body, `delay` before each but the first, ending as `end`.
fn chunked(
    content_type: &'static str,
    pieces: Vec<Bytes>,
    delay: Option<Duration>,
    end: End,
) -> Response<Body> {
    let frames = stream::iter(pieces.into_iter().enumerate())
        .then(move |(i, piece)| async move {
            if let (Some(delay), true) = (delay, i > 0) {
                tokio::time::sleep(delay).await;
            }
            Ok::<_, std::io::Error>(Frame::data(piece))
        })
        .chain(
            stream::once(async move {
                match end {
                    End::Complete => None,
                    End::Cut => {
                        tokio::task::yield_now().await;
                        Some(Err(std::io::Error::other("soak: cut")))
                    }
                    End::Stall => std::future::pending().await,
                }
            })
            .filter_map(|last| async move { last }),
        );
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// An error in the dialect's own shape.
fn error(openai: bool, status: StatusCode, kind: &str, message: &str) -> Response<Body> {
    let body = if openai {
        serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
    } else {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}})
    };
    let body = Full::new(Bytes::from(body.to_string()))
        .map_err(|never: Infallible| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

const TEXT: [&str; 6] = ["Hello", "! How", " can", " I help", " you", " today?"];

fn anthropic_pieces(streamed: bool) -> Vec<Bytes> {
    if !streamed {
        let message = r#"{"id":"msg_soak","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello! How can I help you today?"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":10}}"#;
        // Two pieces, so a cut body breaks off half way.
        let (a, b) = message.split_at(message.len() / 2);
        return vec![Bytes::from(a.to_owned()), Bytes::from(b.to_owned())];
    }
    let mut events = vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_soak\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n\n".to_owned(),
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".to_owned(),
    ];
    for text in TEXT {
        events.push(format!("event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"));
    }
    events.push(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
            .to_owned(),
    );
    events.push("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":10}}\n\n".to_owned());
    events.push("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned());
    events.into_iter().map(Bytes::from).collect()
}

fn openai_pieces(streamed: bool) -> Vec<Bytes> {
    if !streamed {
        let completion = r#"{"id":"chatcmpl-soak","object":"chat.completion","created":1700000000,"model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":10,"total_tokens":22}}"#;
        let (a, b) = completion.split_at(completion.len() / 2);
        return vec![Bytes::from(a.to_owned()), Bytes::from(b.to_owned())];
    }
    let chunk = |delta: &str, finish: &str| {
        format!("data: {{\"id\":\"chatcmpl-soak\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4.1\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n")
    };
    let mut events = vec![chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null")];
    for text in TEXT {
        events.push(chunk(&format!("{{\"content\":\"{text}\"}}"), "null"));
    }
    events.push(chunk("{}", "\"stop\""));
    events.push("data: [DONE]\n\n".to_owned());
    events.into_iter().map(Bytes::from).collect()
}

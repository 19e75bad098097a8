//! The soak's clients: a keep-alive connection each, a request every
//! period on a random route, and a verdict on what came back.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{Stats, LEAVES, MALFORMED};

/// The routes clients use.
#[derive(Clone, Copy)]
enum Route {
    /// `/v1/messages` to Anthropic, forwarded.
    Messages,
    /// `/v1/messages` to OpenAI, translated.
    Translated,
    /// `/p/openai/chat/completions`.
    OpenaiNative,
    /// `/p/anthropic/v1/messages`.
    AnthropicNative,
}

impl Route {
    const ALL: [Route; 4] = [
        Route::Messages,
        Route::Translated,
        Route::OpenaiNative,
        Route::AnthropicNative,
    ];

    fn path(self) -> &'static str {
        match self {
            Route::Messages | Route::Translated => "/v1/messages",
            Route::OpenaiNative => "/p/openai/chat/completions",
            Route::AnthropicNative => "/p/anthropic/v1/messages",
        }
    }

    fn body(self, stream: bool) -> Bytes {
        let messages = serde_json::json!([{"role": "user", "content": "Say hello"}]);
        let body = match self {
            Route::Messages | Route::AnthropicNative => {
                serde_json::json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": stream, "messages": messages})
            }
            Route::Translated => {
                serde_json::json!({"model": "openai@gpt-4.1", "max_tokens": 64, "stream": stream, "messages": messages})
            }
            Route::OpenaiNative => {
                serde_json::json!({"model": "gpt-4.1", "stream": stream, "messages": messages})
            }
        };
        Bytes::from(body.to_string())
    }

    /// Whether the client expects OpenAI's shapes (else Anthropic's).
    fn openai(self) -> bool {
        matches!(self, Route::OpenaiNative)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// One client: a keep-alive connection, a request every `period`.
pub async fn client(
    addr: SocketAddr,
    until: Instant,
    period: Duration,
    seed: u64,
    stats: Arc<Mutex<Stats>>,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut next = Instant::now() + period.mul_f64(rng.f64());
    let mut sender: Option<Sender> = None;
    while next < until {
        tokio::time::sleep_until(next).await;
        next = (next + period).max(Instant::now());
        let route = Route::ALL[rng.usize(..Route::ALL.len())];
        let stream = rng.bool();
        let malformed = rng.f64() < MALFORMED;
        let leaves = stream && rng.f64() < LEAVES;
        let (outcome, attempts) = match tokio::time::timeout(
            Duration::from_secs(60),
            one(&mut sender, addr, route, stream, malformed, leaves),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => {
                sender = None;
                ("no complete answer within 60 s".to_owned(), None)
            }
        };
        if let Ok(mut stats) = stats.lock() {
            stats.requests += 1;
            *stats.outcomes.entry(outcome).or_default() += 1;
            if let Some(attempts) = attempts {
                stats.attempts += attempts;
                stats.wasted += attempts.saturating_sub(1);
            }
        }
    }
}

/// One request: what the client saw, and the attempts keyrelay reports.
async fn one(
    sender: &mut Option<Sender>,
    addr: SocketAddr,
    route: Route,
    stream: bool,
    malformed: bool,
    leaves: bool,
) -> (String, Option<u64>) {
    if let Some(ready) = sender.as_mut() {
        if ready.ready().await.is_err() {
            *sender = None;
        }
    }
    if sender.is_none() {
        match connect(addr).await {
            Ok(fresh) => *sender = Some(fresh),
            Err(err) => return (format!("could not connect to keyrelay: {err}"), None),
        }
    }
    let Some(ready) = sender.as_mut() else {
        return ("could not connect to keyrelay".to_owned(), None);
    };
    let body = if malformed {
        Bytes::from_static(b"{\"model\": \"claude-sonnet-4-5\", \"messages\": [")
    } else {
        route.body(stream)
    };
    let request = Request::post(route.path())
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("anthropic-version", "2023-06-01")
        .body(Full::new(body));
    let Ok(request) = request else {
        return ("could not build the request".to_owned(), None);
    };
    let response = match ready.send_request(request).await {
        Ok(response) => response,
        Err(err) => {
            *sender = None;
            return (format!("connection to keyrelay failed: {err}"), None);
        }
    };
    let status = response.status();
    let attempts = response
        .headers()
        .get("x-keyrelay-attempts")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
                if leaves && status.is_success() {
                    *sender = None;
                    return ("client left mid-stream (on purpose)".to_owned(), attempts);
                }
            }
            Err(err) => {
                *sender = None;
                return (format!("answer broke off: {err}"), attempts);
            }
        }
    }
    let mut judged = judge(route, stream, status.as_u16(), &bytes);
    if attempts == Some(0) {
        judged.push_str(" (keyrelay's own, no upstream call)");
    }
    let outcome = if malformed {
        format!("broken JSON sent → {judged}")
    } else {
        judged
    };
    (outcome, attempts)
}

async fn connect(addr: SocketAddr) -> anyhow::Result<Sender> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// What a complete answer means to its client.
fn judge(route: Route, stream: bool, status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if !(200..300).contains(&status) {
        // Anthropic: {"type":"error","error":{"type",…}}; OpenAI: {"error":{"type","message",…}}.
        let kind = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|error| {
                let shaped = if route.openai() {
                    error["error"]["message"].is_string()
                } else {
                    error["type"] == "error"
                };
                let kind = error["error"]["type"].as_str().map(str::to_owned);
                kind.filter(|_| shaped)
            });
        return match kind {
            Some(kind) => format!("HTTP {status} {kind}"),
            None => format!("HTTP {status} with an error body not in the client's shape"),
        };
    }
    if !stream {
        return match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(_) => "ok".to_owned(),
            Err(_) => "200 whose body is not JSON (the upstream's, passed on)".to_owned(),
        };
    }
    if route.openai() {
        if text.contains("data: [DONE]") {
            "ok".to_owned()
        } else if text.contains("{\"error\"") {
            "stream ended with an error event".to_owned()
        } else {
            "stream ended without [DONE] (the upstream's, passed on)".to_owned()
        }
    } else {
        let last = text.lines().rev().find_map(|l| l.strip_prefix("event: "));
        match last {
            Some("message_stop") => "ok".to_owned(),
            Some("error") => "stream ended with an error event".to_owned(),
            _ => "stream ended without message_stop (the upstream's, passed on)".to_owned(),
        }
    }
}

//! `/v1/messages` for providers that speak another API: translate the
//! request, run it over the key pool, translate the answer back — whole or
//! streamed — and map upstream errors to Anthropic error types.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use dialects::anthropic::{MessagesRequest, StreamEvent};
use dialects::{ProviderRequest, StreamTranslate, Translator};
use futures_util::stream::{self, BoxStream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use keypool::OutcomeClass;

use super::error::{ApiError, ErrorKind, ErrorShape};
use super::relay::{decorate, execute, late_failure_reporter, refused, transport_failure};
use super::Gateway;
use crate::providers::Dialect;
use crate::registry::Provider;
use crate::transport::{Outbound, StreamEnd, Upstream, UpstreamBody, UpstreamResponse};

/// Largest whole (non-streamed) provider response translated.
const WHOLE_BODY_LIMIT: usize = 64 * 1024 * 1024;
/// A ping goes to the client after this much upstream silence.
const PING_EVERY: Duration = Duration::from_secs(10);

/// The translator for a dialect; `None` for Anthropic, which is forwarded as is.
pub fn translator_for(dialect: Dialect) -> Option<&'static dyn Translator> {
    match dialect {
        Dialect::Anthropic => None,
        Dialect::OpenaiChat => Some(&dialects::openai::OpenAiChat),
        Dialect::Gemini => Some(&dialects::gemini::Gemini),
        Dialect::Ollama => Some(&dialects::ollama::Ollama),
    }
}

/// A fresh Anthropic-style message id.
pub fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("msg_{tail}")
}

/// Serves one Messages request through `translator`.
pub async fn translated(
    gateway: &Gateway,
    provider: &Arc<Provider>,
    translator: &'static dyn Translator,
    base: &str,
    request: MessagesRequest,
    upstream_model: &str,
) -> Response {
    let provider_request = match translator.request(&request, upstream_model) {
        Ok(r) => r,
        Err(err) => {
            return decorate(
                ApiError::invalid(err.to_string()).into_response(),
                provider,
                None,
                OutcomeClass::ClientError,
            )
        }
    };
    let outbound = match provider_call(provider, base, &provider_request) {
        Ok(outbound) => outbound,
        Err(err) => return ApiError::invalid(err).into_response(),
    };
    let finished = match execute(gateway, provider, &outbound).await {
        Ok(finished) => finished,
        Err(refusal) => {
            return decorate(
                refused(provider, refusal, ErrorShape::Anthropic),
                provider,
                None,
                OutcomeClass::Success,
            )
        }
    };
    let (key, attempts, class) = (finished.key.clone(), finished.attempts, finished.class);
    let id = message_id();
    let model = request.model.clone();
    let response = match finished.value {
        Upstream::Failed { failure, message } => {
            transport_failure(provider, failure, &message, attempts, ErrorShape::Anthropic)
        }
        Upstream::Response(upstream) if !upstream.status.is_success() => upstream_error(&upstream),
        Upstream::Response(upstream) => {
            let (head, rest) = split_body(upstream.body);
            if request.is_stream() {
                let stream = translated_stream(
                    translator.stream(&model, &id),
                    head,
                    rest,
                    gateway.transport.idle_timeout(),
                    late_failure_reporter(provider, &key),
                );
                let mut response = Response::new(Body::from_stream(stream));
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream; charset=utf-8"),
                );
                headers.insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
                response
            } else {
                match read_whole(head, rest, gateway.transport.idle_timeout()).await {
                    Ok(body) => match translator.response(&body, &model, &id) {
                        Ok(message) => axum::Json(message).into_response(),
                        Err(err) => ApiError::new(
                            StatusCode::BAD_GATEWAY,
                            ErrorKind::Api,
                            format!(
                                "keyrelay could not translate the {} response: {err}",
                                provider.name()
                            ),
                        )
                        .into_response(),
                    },
                    Err(reason) => ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, reason)
                        .into_response(),
                }
            }
        }
    };
    decorate(response, provider, Some((&key, attempts)), class)
}

/// A translated request as an upstream call: JSON POST to `base` + path,
/// with the provider's auth and error dialect.
pub fn provider_call(
    provider: &Provider,
    base: &str,
    request: &ProviderRequest,
) -> Result<Outbound, String> {
    let body = serde_json::to_vec(&request.body).map_err(|e| e.to_string())?;
    let query = request
        .query
        .as_ref()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(Outbound {
        method: Method::POST,
        url: format!("{base}{}{query}", request.path),
        headers,
        body: Bytes::from(body),
        auth: provider.spec.auth.clone(),
        errors: provider.spec.errors,
    })
}

fn split_body(body: UpstreamBody) -> (Bytes, BoxStream<'static, Result<Bytes, reqwest::Error>>) {
    match body {
        UpstreamBody::Full(bytes) => (bytes, stream::empty().boxed()),
        UpstreamBody::Stream { head, rest } => (head, rest),
    }
}

/// An upstream error as an Anthropic error: same status, Anthropic type,
/// the provider's own (already redacted) message, `retry-after` kept.
fn upstream_error(upstream: &UpstreamResponse) -> Response {
    let body = match &upstream.body {
        UpstreamBody::Full(bytes) => bytes.clone(),
        UpstreamBody::Stream { head, .. } => head.clone(),
    };
    let message = error_message(&body)
        .unwrap_or_else(|| format!("upstream answered HTTP {}", upstream.status.as_u16()));
    let mut error = ApiError::new(
        upstream.status,
        ErrorKind::for_status(upstream.status),
        message,
    );
    error.retry_after = upstream
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| secs.ceil() as u64);
    error.into_response()
}

/// The human message of a provider error body: `error.message` (OpenAI,
/// Gemini), `error` as a string (Ollama), or `message`; else the text itself.
fn error_message(body: &[u8]) -> Option<String> {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        let json = if let Some(first) = json.as_array().and_then(|a| a.first()) {
            first.clone()
        } else {
            json
        };
        let found = json
            .pointer("/error/message")
            .or_else(|| json.get("error").filter(|e| e.is_string()))
            .or_else(|| json.get("message"))
            .and_then(|m| m.as_str());
        if let Some(message) = found {
            return Some(message.to_owned());
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(500).collect())
}

async fn read_whole(
    head: Bytes,
    mut rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    idle: Duration,
) -> Result<Bytes, String> {
    let mut body = BytesMut::from(&head[..]);
    loop {
        match tokio::time::timeout(idle, rest.next()).await {
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > WHOLE_BODY_LIMIT {
                    return Err(format!(
                        "upstream response larger than {WHOLE_BODY_LIMIT} bytes"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Ok(Some(Err(err))) => {
                return Err(format!(
                    "upstream response broke off: {}",
                    err.without_url()
                ))
            }
            Err(_) => {
                return Err(format!(
                    "upstream response was silent for {}s",
                    idle.as_secs_f64()
                ))
            }
        }
    }
}

fn encode(events: &mut Vec<StreamEvent>) -> Bytes {
    let mut out = BytesMut::new();
    for event in events.drain(..) {
        out.extend_from_slice(&event.to_sse());
    }
    out.freeze()
}

/// Provider bytes → Anthropic SSE bytes, with pings while the provider is
/// silent and a complete ending (error event) when it breaks off.
fn translated_stream(
    translator: Box<dyn StreamTranslate>,
    head: Bytes,
    rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
    idle: Duration,
    on_end: impl FnOnce(StreamEnd) + Send + 'static,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    struct State<E> {
        translator: Box<dyn StreamTranslate>,
        head: Option<Bytes>,
        rest: BoxStream<'static, Result<Bytes, reqwest::Error>>,
        events: Vec<StreamEvent>,
        silent: Duration,
        on_end: Option<E>,
        done: bool,
    }
    let state = State {
        translator,
        head: Some(head),
        rest,
        events: Vec::new(),
        silent: Duration::ZERO,
        on_end: Some(on_end),
        done: false,
    };
    stream::unfold(state, move |mut s| async move {
        loop {
            if s.done {
                return None;
            }
            if let Some(head) = s.head.take() {
                s.translator.push(&head, &mut s.events);
            } else {
                let wait = PING_EVERY
                    .min(idle.saturating_sub(s.silent))
                    .max(Duration::from_millis(1));
                match tokio::time::timeout(wait, s.rest.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        s.silent = Duration::ZERO;
                        s.translator.push(&chunk, &mut s.events);
                    }
                    Ok(None) => {
                        s.translator.finish(None, &mut s.events);
                        s.done = true;
                        if let Some(on_end) = s.on_end.take() {
                            on_end(StreamEnd::Complete);
                        }
                    }
                    Ok(Some(Err(err))) => {
                        let reason = format!("upstream stream broke: {}", err.without_url());
                        s.translator.finish(Some(&reason), &mut s.events);
                        s.done = true;
                        if let Some(on_end) = s.on_end.take() {
                            on_end(StreamEnd::Broken(reason));
                        }
                    }
                    Err(_) => {
                        s.silent += wait;
                        if s.silent >= idle {
                            let reason =
                                format!("upstream stream was silent for {}s", idle.as_secs_f64());
                            s.translator.finish(Some(&reason), &mut s.events);
                            s.done = true;
                            if let Some(on_end) = s.on_end.take() {
                                on_end(StreamEnd::Broken(reason));
                            }
                        } else if s.translator.started() {
                            s.events.push(StreamEvent::Ping);
                        }
                    }
                }
            }
            if !s.events.is_empty() {
                let bytes = encode(&mut s.events);
                return Some((Ok(bytes), s));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(bytes: &[u8]) -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .map(str::to_owned)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_upstream_gets_pings_then_an_error_at_the_idle_timeout() {
        let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
        let rest = stream::iter(vec![Ok(Bytes::from_static(first.as_bytes()))])
            .chain(stream::pending())
            .boxed();
        let (ended, ends) = std::sync::mpsc::channel();
        let translator = dialects::openai::OpenAiChat.stream("m", "msg_test");
        let idle = Duration::from_secs(25);
        let started = tokio::time::Instant::now();
        let body: Vec<Bytes> =
            translated_stream(translator, Bytes::new(), rest, idle, move |end| {
                let _ = ended.send(end);
            })
            .map(|chunk| chunk.unwrap_or_default())
            .collect()
            .await;
        let all: Vec<u8> = body.concat();
        assert_eq!(
            names(&all),
            [
                "message_start",
                "content_block_start",
                "content_block_delta",
                "ping",
                "ping",
                "content_block_stop",
                "error"
            ],
            "{}",
            String::from_utf8_lossy(&all)
        );
        assert_eq!(started.elapsed(), idle);
        assert!(matches!(ends.try_recv(), Ok(StreamEnd::Broken(_))));
    }
}

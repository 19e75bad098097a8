//! OpenTelemetry traces over real HTTP: a keyrelay with tracing on in front
//! of a fake upstream, exporting to a small OTLP/HTTP receiver on
//! 127.0.0.1 that decodes what it gets with the reference protobuf types.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use keypool::ApiKey;
use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};
use testkit::{eventually_async, FakeUpstream, Reply};

/// Obviously fake keys.
const LIMITED: &str = "test-trace-key-limited-QWERTY0001";
const GOOD: &str = "test-trace-key-good-----QWERTY0002";
const PROMPT: &str = "PROMPT-TEXT-must-never-be-exported";
const ANSWER: &str = "ANSWER-TEXT-must-never-be-exported";
const TOKEN: &str = "collector-token-SECRET-42";
/// The client's trace and span.
const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

/// An OTLP/HTTP receiver: every export body as it arrived, and its headers.
#[derive(Clone, Default)]
struct Collector {
    bodies: Arc<Mutex<Vec<Bytes>>>,
    headers: Arc<Mutex<Vec<http::HeaderMap>>>,
}

impl Collector {
    async fn start() -> (Collector, SocketAddr) {
        let collector = Collector::default();
        let seen = collector.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |headers: http::HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    seen.bodies.lock().unwrap().push(body);
                    seen.headers.lock().unwrap().push(headers);
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (collector, addr)
    }

    /// Every span received so far.
    fn spans(&self) -> Vec<Span> {
        let bodies = self.bodies.lock().unwrap();
        bodies
            .iter()
            .flat_map(|body| {
                ExportTraceServiceRequest::decode(body.as_ref())
                    .unwrap()
                    .resource_spans
            })
            .flat_map(|rs| rs.scope_spans)
            .flat_map(|ss| ss.spans)
            .collect()
    }

    fn raw(&self) -> Vec<u8> {
        self.bodies.lock().unwrap().concat()
    }
}

/// A gateway with two Anthropic keys on `upstream`, tracing to `collector`.
async fn traced_gateway(upstream: &FakeUpstream, collector: SocketAddr) -> RunningGateway {
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", format!("{LIMITED},{GOOD}")),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}")),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("authorization=Bearer%20{TOKEN}"),
        ),
        ("OTEL_SERVICE_NAME", "keyrelay-under-test".to_owned()),
    ]);
    let settings = ServeSettings {
        config: Config::from_toml("").unwrap(),
        ..ServeSettings::default()
    };
    RunningGateway::start(&settings, &env).await.unwrap()
}

fn request(stream: bool) -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": PROMPT}],
    })
}

fn anthropic_message() -> Value {
    json!({
        "id": "msg_01trace",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": ANSWER}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 21, "output_tokens": 7},
    })
}

async fn post(gateway: &RunningGateway, body: &Value, traceparent: Option<&str>) -> String {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("anthropic-version", "2023-06-01")
        .json(body);
    if let Some(traceparent) = traceparent {
        request = request
            .header("traceparent", traceparent)
            .header("tracestate", "vendor=opaque");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Waits (flushing the exporter) until `n` spans have arrived.
async fn spans(gateway: &RunningGateway, collector: &Collector, n: usize) -> Vec<Span> {
    let telemetry = gateway.live.telemetry().unwrap().clone();
    eventually_async(
        "the request's spans at the collector",
        Duration::from_secs(10),
        || {
            let telemetry = telemetry.clone();
            async move {
                telemetry.flush().await;
                let spans = collector.spans();
                (spans.len() >= n).then_some(spans)
            }
        },
    )
    .await
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(span: &'a Span, key: &str) -> &'a str {
    match attr(span, key) {
        Some(Any::StringValue(s)) => s,
        other => panic!("{}: {key} is {other:?}", span.name),
    }
}

fn int(span: &Span, key: &str) -> i64 {
    match attr(span, key) {
        Some(Any::IntValue(n)) => *n,
        other => panic!("{}: {key} is {other:?}", span.name),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn fingerprint(key: &str) -> String {
    ApiKey::new(key, None).fingerprint().to_string()
}

#[tokio::test]
async fn a_rate_limited_first_key_makes_one_trace_of_a_request_and_two_attempts() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/anthropic_rate_limit.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message())]);
    let (collector, addr) = Collector::start().await;
    let gateway = traced_gateway(&upstream, addr).await;

    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let answer = post(&gateway, &request(false), Some(&traceparent)).await;
    assert!(answer.contains(ANSWER), "{answer}");

    let spans = spans(&gateway, &collector, 3).await;
    assert_eq!(spans.len(), 3, "{spans:#?}");
    // One trace: the client's.
    for span in &spans {
        assert_eq!(hex(&span.trace_id), CLIENT_TRACE, "{}", span.name);
        assert_eq!(span.trace_state, "vendor=opaque");
    }
    let server: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Server as i32)
        .collect();
    assert_eq!(server.len(), 1, "{spans:#?}");
    let request_span = server[0];
    assert_eq!(hex(&request_span.parent_span_id), CLIENT_SPAN);
    assert_eq!(request_span.name, "chat claude-sonnet-4-5");
    assert_eq!(text(request_span, "gen_ai.operation.name"), "chat");
    assert_eq!(text(request_span, "gen_ai.provider.name"), "anthropic");
    assert_eq!(
        text(request_span, "gen_ai.request.model"),
        "claude-sonnet-4-5"
    );
    assert_eq!(
        text(request_span, "gen_ai.response.model"),
        "claude-sonnet-4-5-20250929"
    );
    assert_eq!(int(request_span, "gen_ai.usage.input_tokens"), 21);
    assert_eq!(int(request_span, "gen_ai.usage.output_tokens"), 7);
    match attr(request_span, "gen_ai.response.finish_reasons") {
        Some(Any::ArrayValue(array)) => {
            let reasons: Vec<_> = array.values.iter().map(|v| v.value.clone()).collect();
            assert_eq!(reasons, [Some(Any::StringValue("end_turn".into()))]);
        }
        other => panic!("finish reasons: {other:?}"),
    }
    assert_eq!(text(request_span, "keyrelay.key"), fingerprint(GOOD));
    assert_eq!(text(request_span, "keyrelay.outcome"), "success");
    assert_eq!(int(request_span, "keyrelay.attempts"), 2);
    assert_eq!(int(request_span, "keyrelay.fallback"), 0);
    assert_eq!(int(request_span, "http.response.status_code"), 200);

    let mut attempts: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Client as i32)
        .collect();
    attempts.sort_by_key(|s| int(s, "keyrelay.attempt"));
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    for attempt in &attempts {
        assert_eq!(attempt.parent_span_id, request_span.span_id);
        assert_eq!(attempt.name, "chat claude-sonnet-4-5");
        assert_eq!(text(attempt, "gen_ai.provider.name"), "anthropic");
        assert_eq!(text(attempt, "gen_ai.request.model"), "claude-sonnet-4-5");
        assert!(attempt.start_time_unix_nano >= request_span.start_time_unix_nano);
        assert!(attempt.end_time_unix_nano <= request_span.end_time_unix_nano);
    }
    let (limited, good) = (attempts[0], attempts[1]);
    assert_eq!(text(limited, "keyrelay.key"), fingerprint(LIMITED));
    assert_eq!(text(limited, "keyrelay.outcome"), "rate_limited");
    assert_eq!(int(limited, "http.response.status_code"), 429);
    let status = limited.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(text(good, "keyrelay.key"), fingerprint(GOOD));
    assert_eq!(text(good, "keyrelay.outcome"), "success");
    // The attempt that answered carries the answer's attributes too.
    assert_eq!(int(good, "gen_ai.usage.output_tokens"), 7);
    assert_eq!(
        text(good, "gen_ai.response.model"),
        "claude-sonnet-4-5-20250929"
    );
    assert!(attr(limited, "gen_ai.usage.output_tokens").is_none());
    assert!(good
        .status
        .as_ref()
        .is_none_or(|s| s.code != StatusCode::Error as i32));

    // Each upstream request carried its attempt's span as parent, in the client's trace.
    let sent = upstream.requests();
    assert_eq!(sent.len(), 2);
    for (request, attempt) in sent.iter().zip(&attempts) {
        let expected = format!("00-{CLIENT_TRACE}-{}-01", hex(&attempt.span_id));
        assert_eq!(request.header("traceparent"), Some(expected.as_str()));
        assert_eq!(request.header("tracestate"), Some("vendor=opaque"));
    }

    // The collector got the configured header; no key, prompt or answer anywhere.
    let headers = collector.headers.lock().unwrap().clone();
    assert!(headers
        .iter()
        .all(|h| h.get("authorization").unwrap() == &format!("Bearer {TOKEN}")));
    let raw = collector.raw();
    for secret in [
        LIMITED,
        GOOD,
        &LIMITED[15..],
        &GOOD[15..],
        PROMPT,
        ANSWER,
        "Say hello",
    ] {
        assert!(
            memchr::memmem::find(&raw, secret.as_bytes()).is_none(),
            "`{secret}` is in the export"
        );
    }
    let resource = ExportTraceServiceRequest::decode(collector.bodies.lock().unwrap()[0].as_ref())
        .unwrap()
        .resource_spans[0]
        .resource
        .clone()
        .unwrap();
    let service = resource
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value);
    assert_eq!(
        service,
        Some(Any::StringValue("keyrelay-under-test".into()))
    );
}

#[tokio::test]
async fn a_streamed_answer_has_a_first_byte_event_and_its_finish_reason() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [Reply::anthropic_stream(ANSWER)]);
    let (collector, addr) = Collector::start().await;
    let gateway = traced_gateway(&upstream, addr).await;

    let answer = post(&gateway, &request(true), None).await;
    assert!(answer.contains("message_stop"), "{answer}");

    let spans = spans(&gateway, &collector, 2).await;
    let request_span = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    // No client traceparent: a new trace, keyrelay's span its root.
    assert!(request_span.parent_span_id.is_empty());
    let event = request_span
        .events
        .iter()
        .find(|e| e.name == "keyrelay.first_byte")
        .unwrap_or_else(|| panic!("no first byte event: {request_span:#?}"));
    assert!(event.time_unix_nano >= request_span.start_time_unix_nano);
    assert!(event.time_unix_nano <= request_span.end_time_unix_nano);
    assert!(matches!(
        attr(request_span, "gen_ai.response.finish_reasons"),
        Some(Any::ArrayValue(a)) if a.values.len() == 1
    ));
    let sent = upstream.requests();
    let traceparent = sent[0].header("traceparent").unwrap();
    assert!(traceparent.starts_with(&format!("00-{}-", hex(&request_span.trace_id))));
    let raw = collector.raw();
    assert!(memchr::memmem::find(&raw, ANSWER.as_bytes()).is_none());
}

#[tokio::test]
async fn an_invalid_traceparent_starts_a_new_trace() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [Reply::json(200, anthropic_message())]);
    let (collector, addr) = Collector::start().await;
    let gateway = traced_gateway(&upstream, addr).await;

    // Upper-case hex is invalid in version 00.
    let invalid = format!("00-{}-{CLIENT_SPAN}-01", CLIENT_TRACE.to_uppercase());
    post(&gateway, &request(false), Some(&invalid)).await;

    let spans = spans(&gateway, &collector, 2).await;
    let request_span = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    assert!(request_span.parent_span_id.is_empty());
    assert_ne!(hex(&request_span.trace_id), CLIENT_TRACE);
    // No trace state without the client's parent.
    assert!(request_span.trace_state.is_empty());
    let sent = upstream.requests();
    assert!(sent[0].header("tracestate").is_none());
    assert!(sent[0]
        .header("traceparent")
        .unwrap()
        .contains(&hex(&request_span.trace_id)));
}

#[tokio::test]
async fn with_tracing_off_nothing_is_exported_and_no_traceparent_goes_upstream() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [Reply::json(200, anthropic_message())]);
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", LIMITED.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
    ]);
    let gateway = RunningGateway::start(&ServeSettings::default(), &env)
        .await
        .unwrap();
    assert!(gateway.live.telemetry().is_none());

    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    post(&gateway, &request(false), Some(&traceparent)).await;

    let sent = upstream.requests();
    assert_eq!(sent.len(), 1);
    // As before tracing existed: trace headers are not on the allow-list.
    assert!(sent[0].header("traceparent").is_none());
    assert!(sent[0].header("tracestate").is_none());
}

#[tokio::test]
async fn a_dead_collector_loses_spans_never_requests() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::json(200, anthropic_message())]);
    // A port nothing listens on.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", GOOD.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{dead}")),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "8".to_owned()),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4".to_owned()),
    ]);
    let gateway = RunningGateway::start(&ServeSettings::default(), &env)
        .await
        .unwrap();
    let telemetry = gateway.live.telemetry().unwrap().clone();

    for _ in 0..20 {
        let answer = post(&gateway, &request(false), None).await;
        assert!(answer.contains(ANSWER));
    }
    // Every span is dropped, by a full queue or a failed export: 20
    // requests of two spans each, none kept.
    eventually_async(
        "every span counted as dropped",
        Duration::from_secs(10),
        || {
            let telemetry = telemetry.clone();
            async move {
                telemetry.flush().await;
                let dropped = telemetry.dropped();
                (dropped == 40).then_some(()).ok_or(dropped)
            }
        },
    )
    .await;
}

#[tokio::test]
async fn stopping_the_gateway_exports_what_is_queued() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message())]);
    let (collector, addr) = Collector::start().await;
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", GOOD.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
        // Far longer than the test: only the stop exports.
        ("OTEL_BSP_SCHEDULE_DELAY", "3600000".to_owned()),
    ]);
    let gateway = RunningGateway::start(&ServeSettings::default(), &env)
        .await
        .unwrap();
    post(&gateway, &request(false), None).await;
    let live = gateway.live.clone();
    gateway.stop().await;
    assert_eq!(collector.spans().len(), 2, "{:?}", collector.spans());
    assert_eq!(live.telemetry().unwrap().dropped(), 0);
}

#[tokio::test]
async fn a_virtual_key_is_named_and_its_secret_never_exported() {
    const ADMIN: &str = "admin-token-for-tracing-tests";
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message())]);
    let (collector, addr) = Collector::start().await;
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", GOOD.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
    ]);
    let settings = ServeSettings {
        config: Config::from_toml(&format!(
            "[server]\nadmin_tokens = [\"{ADMIN}\"]\n[state]\nstore = \"memory\"\n"
        ))
        .unwrap(),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let made: Value = client
        .post(format!("{}/admin/virtual-keys", gateway.url()))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "alice-laptop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = made["key"].as_str().unwrap().to_owned();
    let response = client
        .post(format!("{}/v1/messages", gateway.url()))
        .header("x-api-key", &secret)
        .header("anthropic-version", "2023-06-01")
        .json(&request(false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();

    let spans = spans(&gateway, &collector, 2).await;
    let request_span = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    assert_eq!(text(request_span, "keyrelay.virtual_key"), "alice-laptop");
    let raw = collector.raw();
    for secret in [secret.as_str(), &secret[3..], ADMIN] {
        assert!(memchr::memmem::find(&raw, secret.as_bytes()).is_none());
    }
}

#[tokio::test]
async fn an_attempt_on_a_fallback_target_names_its_target_provider_and_model() {
    let anthropic = FakeUpstream::start().await;
    anthropic.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/anthropic_rate_limit.json",
        )],
    );
    let openai = FakeUpstream::start().await;
    openai.on_key(GOOD, [Reply::openai_chat("fallback answer")]);
    let (collector, addr) = Collector::start().await;
    let env = MapEnv::new([
        ("ANTHROPIC_API_KEYS", LIMITED.to_owned()),
        ("ANTHROPIC_UPSTREAM_BASE_URL", anthropic.base_url()),
        ("OPENAI_API_KEYS", GOOD.to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", openai.base_url())),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
    ]);
    let settings = ServeSettings {
        config: Config::from_toml("[fallbacks]\n\"anthropic@*\" = [\"openai@gpt-4.1-mini\"]\n")
            .unwrap(),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();
    post(&gateway, &request(false), None).await;

    let spans = spans(&gateway, &collector, 3).await;
    let request_span = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap();
    assert_eq!(int(request_span, "keyrelay.fallback"), 1);
    assert_eq!(text(request_span, "gen_ai.provider.name"), "openai");
    assert_eq!(text(request_span, "gen_ai.request.model"), "gpt-4.1-mini");
    let mut attempts: Vec<&Span> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Client as i32)
        .collect();
    attempts.sort_by_key(|s| int(s, "keyrelay.attempt"));
    let (first, second) = (attempts[0], attempts[1]);
    assert_eq!(text(first, "gen_ai.provider.name"), "anthropic");
    assert_eq!(text(first, "gen_ai.request.model"), "claude-sonnet-4-5");
    assert_eq!(int(first, "keyrelay.fallback"), 0);
    assert_eq!(text(second, "gen_ai.provider.name"), "openai");
    assert_eq!(text(second, "gen_ai.request.model"), "gpt-4.1-mini");
    assert_eq!(second.name, "chat gpt-4.1-mini");
    assert_eq!(int(second, "keyrelay.fallback"), 1);
    let sent = openai.requests();
    let expected = format!("00-{}-{}-01", hex(&second.trace_id), hex(&second.span_id));
    assert_eq!(sent[0].header("traceparent"), Some(expected.as_str()));
}

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message;

use super::sampler::Root;
use super::settings::Batch;
use super::span::{Event, Kind, SpanData, Status, Value};
use super::*;
use crate::env::MapEnv;

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_valid_traceparent_is_read_and_written_back_the_same() {
    let parent = TraceParent::parse(VALID.as_bytes()).unwrap();
    assert_eq!(to_hex(&parent.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(to_hex(&parent.span_id), "00f067aa0ba902b7");
    assert!(parent.sampled);
    assert_eq!(parent.header(), VALID);
    let unsampled = VALID.replace("-01", "-00");
    assert!(!TraceParent::parse(unsampled.as_bytes()).unwrap().sampled);
}

#[test]
fn a_later_version_with_more_fields_is_read() {
    let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds";
    assert!(TraceParent::parse(later.as_bytes()).is_some());
}

#[test]
fn an_invalid_traceparent_is_ignored() {
    for bad in [
        "",
        "garbage",
        &VALID.to_uppercase(),
        &VALID.replace("00-4bf", "ff-4bf"),
        &format!("{VALID}-extra"),
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
    ] {
        assert_eq!(TraceParent::parse(bad.as_bytes()), None, "{bad}");
    }
}

#[test]
fn samplers_follow_the_standard_names() {
    let id = [7u8; 16];
    assert_eq!(
        Sampler::parse(None, None).unwrap(),
        Sampler::ParentBased(Root::AlwaysOn)
    );
    let parent_based = Sampler::parse(Some("parentbased_always_on"), None).unwrap();
    assert!(parent_based.samples(&id, None));
    assert!(!parent_based.samples(&id, Some(false)));
    assert!(Sampler::parse(Some("parentbased_always_off"), None)
        .unwrap()
        .samples(&id, Some(true)));
    assert!(!Sampler::parse(Some("always_off"), None)
        .unwrap()
        .samples(&id, Some(true)));
    assert!(Sampler::parse(Some("always_on"), None)
        .unwrap()
        .samples(&id, Some(false)));
    let none = Sampler::parse(Some("traceidratio"), Some(0.0)).unwrap();
    let all = Sampler::parse(Some("traceidratio"), Some(1.0)).unwrap();
    let half = Sampler::parse(Some("traceidratio"), Some(0.5)).unwrap();
    let mut sampled = 0;
    for _ in 0..1000 {
        let id = fastrand::u128(1..).to_be_bytes();
        assert!(!none.samples(&id, Some(true)));
        assert!(all.samples(&id, None));
        sampled += usize::from(half.samples(&id, None));
    }
    assert!((350..650).contains(&sampled), "{sampled}");
    assert!(Sampler::parse(Some("sometimes"), None)
        .unwrap_err()
        .contains("unknown sampler"));
    assert!(Sampler::parse(Some("traceidratio"), Some(1.5)).is_err());
}

fn resolve(toml: &str, env: &[(&str, &str)]) -> Result<Option<Export>, String> {
    let settings: TelemetrySettings = toml::from_str(toml).unwrap();
    settings.resolve(&MapEnv::new(env.iter().copied()))
}

#[test]
fn tracing_is_off_without_an_endpoint() {
    assert!(resolve("", &[]).unwrap().is_none());
    assert!(
        resolve("service_name = \"x\"", &[("OTEL_SERVICE_NAME", "y")])
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_endpoint_comes_from_the_environment_first() {
    let export = resolve(
        "endpoint = \"http://file:4318\"",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318/")],
    )
    .unwrap()
    .unwrap();
    assert_eq!(export.url, "http://env:4318/v1/traces");
    let export = resolve(
        "endpoint = \"http://file:4318\"",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces:443/custom",
            ),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(export.url, "https://traces:443/custom");
    let export = resolve("endpoint = \"http://file:4318\"", &[])
        .unwrap()
        .unwrap();
    assert_eq!(export.url, "http://file:4318/v1/traces");
    let export = resolve("enabled = true", &[]).unwrap().unwrap();
    assert_eq!(export.url, "http://localhost:4318/v1/traces");
    assert_eq!(export.service_name, "keyrelay");
    assert_eq!(export.sampler, Sampler::ParentBased(Root::AlwaysOn));
}

#[test]
fn tracing_can_be_turned_off_in_the_file_or_the_environment() {
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318")];
    assert!(resolve("enabled = false", &env).unwrap().is_none());
    let disabled = [env[0], ("OTEL_SDK_DISABLED", "true")];
    assert!(resolve("", &disabled).unwrap().is_none());
    let none = [env[0], ("OTEL_TRACES_EXPORTER", "none")];
    assert!(resolve("", &none).unwrap().is_none());
}

#[test]
fn variables_win_over_the_file() {
    let toml = "endpoint = \"http://file:4318\"\nservice_name = \"from-file\"\nsampler = \"always_off\"\nheaders = { authorization = \"Bearer file\", x-team = \"a\" }";
    let export = resolve(
        toml,
        &[
            ("OTEL_SERVICE_NAME", "from-env"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Bearer%20env,x-other=b",
            ),
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(export.service_name, "from-env");
    assert_eq!(export.sampler, Sampler::Ratio(0.25));
    let headers: Vec<(String, String)> = export
        .headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        headers,
        [
            ("authorization".to_owned(), "Bearer env".to_owned()),
            ("x-other".to_owned(), "b".to_owned()),
            ("x-team".to_owned(), "a".to_owned()),
        ]
    );
    assert!(export.headers.iter().all(|(_, v)| v.is_sensitive()));
    assert_eq!(export.batch.delay, Duration::from_millis(250));
    assert_eq!(export.batch.max_queue, 100);
    assert_eq!(export.batch.max_batch, 100);
    assert_eq!(export.batch.timeout, Duration::from_secs(3));
}

#[test]
fn a_bad_setting_is_named_and_no_header_value_is_shown() {
    let on = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318");
    let error = resolve(
        "",
        &[
            on,
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret,no-equals-s3cret",
            ),
        ],
    )
    .unwrap_err();
    assert!(
        error.contains("OTEL_EXPORTER_OTLP_HEADERS: entry 2"),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
    let error = resolve("headers = { x-token = \"s3cret\\u0007x\" }", &[on]).unwrap_err();
    assert!(error.contains("x-token"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
    for (env, named) in [
        (("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), "http/protobuf"),
        (("OTEL_TRACES_EXPORTER", "zipkin"), "OTLP only"),
        (
            ("OTEL_TRACES_SAMPLER_ARG", "half"),
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        (("OTEL_BSP_MAX_QUEUE_SIZE", "-1"), "OTEL_BSP_MAX_QUEUE_SIZE"),
        (("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"), "http://"),
    ] {
        let error = resolve("", &[on, env]).unwrap_err();
        assert!(error.contains(named), "{error}");
    }
    let settings: TelemetrySettings = toml::from_str("headers = { x-token = \"s3cret\" }").unwrap();
    let shown = format!("{settings:?}");
    assert!(
        shown.contains("x-token") && !shown.contains("s3cret"),
        "{shown}"
    );
}

#[test]
fn an_unknown_telemetry_setting_is_refused() {
    assert!(toml::from_str::<TelemetrySettings>("endpiont = \"http://x\"").is_err());
}

fn sample_span() -> SpanData {
    SpanData {
        trace_id: [1; 16],
        span_id: [2; 8],
        parent: Some([3; 8]),
        remote_parent: true,
        trace_state: Some("vendor=opaque".into()),
        name: "chat claude-sonnet-4-5".into(),
        kind: Kind::Server,
        start: 1_700_000_000_000_000_000,
        end: 1_700_000_000_500_000_000,
        attributes: vec![
            ("gen_ai.operation.name", Value::from("chat")),
            ("gen_ai.usage.input_tokens", Value::from(21u64)),
            ("keyrelay.flag", Value::from(true)),
            ("negative", Value::Int(-5)),
            ("empty", Value::from("")),
            (
                "gen_ai.response.finish_reasons",
                Value::Strs(vec!["end_turn".into(), String::new()]),
            ),
        ],
        events: vec![Event {
            name: "keyrelay.first_byte",
            at: 1_700_000_000_100_000_000,
            attributes: vec![("keyrelay.first_byte_ms", Value::from(100u64))],
        }],
        status: Status::Error("rate_limited: 429".into()),
    }
}

#[test]
fn the_export_body_decodes_with_the_reference_types() {
    let resource = vec![("service.name", Value::from("keyrelay"))];
    let body = otlp::encode(&resource, ("keyrelay", "0.1.0"), &[sample_span()]);
    let decoded = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
    let rs = &decoded.resource_spans[0];
    let service = &rs.resource.as_ref().unwrap().attributes[0];
    assert_eq!(service.key, "service.name");
    let scope = &rs.scope_spans[0];
    assert_eq!(scope.scope.as_ref().unwrap().name, "keyrelay");
    assert_eq!(scope.scope.as_ref().unwrap().version, "0.1.0");
    let span = &scope.spans[0];
    assert_eq!(span.trace_id, [1; 16]);
    assert_eq!(span.span_id, [2; 8]);
    assert_eq!(span.parent_span_id, [3; 8]);
    assert_eq!(span.trace_state, "vendor=opaque");
    assert_eq!(span.name, "chat claude-sonnet-4-5");
    assert_eq!(span.kind, 2);
    assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_700_000_000_500_000_000);
    assert_eq!(span.flags, 0x301);
    let values: Vec<(String, Option<Any>)> = span
        .attributes
        .iter()
        .map(|kv| (kv.key.clone(), kv.value.clone().and_then(|v| v.value)))
        .collect();
    assert_eq!(
        values[0],
        (
            "gen_ai.operation.name".into(),
            Some(Any::StringValue("chat".into()))
        )
    );
    assert_eq!(values[1].1, Some(Any::IntValue(21)));
    assert_eq!(values[2].1, Some(Any::BoolValue(true)));
    assert_eq!(values[3].1, Some(Any::IntValue(-5)));
    assert_eq!(values[4].1, Some(Any::StringValue(String::new())));
    match &values[5].1 {
        Some(Any::ArrayValue(array)) => {
            let items: Vec<_> = array.values.iter().map(|v| v.value.clone()).collect();
            assert_eq!(
                items,
                [
                    Some(Any::StringValue("end_turn".into())),
                    Some(Any::StringValue(String::new()))
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let event = &span.events[0];
    assert_eq!(event.name, "keyrelay.first_byte");
    assert_eq!(event.time_unix_nano, 1_700_000_000_100_000_000);
    assert_eq!(event.attributes[0].key, "keyrelay.first_byte_ms");
    let status = span.status.as_ref().unwrap();
    assert_eq!(status.code, 2);
    assert_eq!(status.message, "rate_limited: 429");
}

#[test]
fn a_request_span_continues_the_clients_trace() {
    let mut headers = HeaderMap::new();
    headers.insert(TRACEPARENT, VALID.parse().unwrap());
    headers.insert(TRACESTATE, "vendor=opaque".parse().unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let env = MapEnv::new([("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")]);
    let telemetry = Telemetry::start(&TelemetrySettings::default(), &env)
        .unwrap()
        .unwrap();
    let span = telemetry.begin(&headers);
    assert!(span.sampled());
    let ended = span.end();
    assert_eq!(to_hex(&ended.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        ended.parent.map(|p| to_hex(&p)).as_deref(),
        Some("00f067aa0ba902b7")
    );
    assert_ne!(ended.span_id, [0; 8]);
    assert_eq!(ended.trace_state.as_deref(), Some("vendor=opaque"));
    // Outside a traced request, an attempt carries nothing.
    assert!(attempt_headers("key").is_none());
}

#[tokio::test]
async fn a_full_queue_drops_spans_instead_of_holding_them() {
    // A collector that takes connections into its backlog and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let export = Export {
        url: format!("http://{}/v1/traces", silent.local_addr().unwrap())
            .parse()
            .unwrap(),
        headers: Vec::new(),
        service_name: "keyrelay".into(),
        sampler: Sampler::AlwaysOn,
        batch: Batch {
            max_queue: 4,
            max_batch: 1,
            delay: Duration::from_millis(1),
            timeout: Duration::from_secs(600),
        },
    };
    let exporter = export::Exporter::start(&export).unwrap();
    for _ in 0..21 {
        exporter.push(vec![sample_span()]);
    }
    // At most the queue and one batch in flight are held.
    assert!(exporter.dropped() >= 16, "{}", exporter.dropped());
}

#[test]
fn the_logged_endpoint_has_no_credentials() {
    let url = "https://user:s3cret@collector.example:4318/v1/traces?token=s3cret"
        .parse()
        .unwrap();
    assert_eq!(
        settings::shown(&url),
        "https://collector.example:4318/v1/traces"
    );
}

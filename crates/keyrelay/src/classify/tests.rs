//! Classification tests. The fixture table (`testkit/fixtures/errors/INDEX.tsv`)
//! drives the main test: adding a real provider body there adds a case.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use keypool::{hints, Outcome, OutcomeClass};

use super::{classify, classify_stream_event, classify_transport, ErrorDialect, TransportFailure};
use crate::redact::redact;

const ALL: [ErrorDialect; 5] = [
    ErrorDialect::Anthropic,
    ErrorDialect::Openai,
    ErrorDialect::Gemini,
    ErrorDialect::Openrouter,
    ErrorDialect::Ollama,
];

/// 2026-01-15T12:00:00Z, the instant the fixtures' reset stamps are relative to.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_768_478_400)
}

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testkit/fixtures/errors")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// The `.headers` sidecar of a fixture, if any: one `name: value` per line.
fn sidecar_headers(name: &str) -> HeaderMap {
    let path = fixture_dir().join(name.replace(".json", ".headers"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let pairs = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim(), v.trim()));
    pairs
        .map(|(n, v)| {
            (
                n.parse::<HeaderName>().unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(n, v)| {
            (
                n.parse::<HeaderName>().unwrap(),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

fn dialect_of(file: &str) -> ErrorDialect {
    match file.split('_').next() {
        Some("anthropic") => ErrorDialect::Anthropic,
        Some("openai") => ErrorDialect::Openai,
        Some("gemini") => ErrorDialect::Gemini,
        Some("openrouter") => ErrorDialect::Openrouter,
        Some("ollama") => ErrorDialect::Ollama,
        other => panic!("fixture {file}: unknown provider {other:?}"),
    }
}

/// Classifies a fixture the way its INDEX row says it arrives.
fn run_fixture(file: &str, status: &str) -> Option<Outcome> {
    let (dialect, body) = (dialect_of(file), read(file));
    match status {
        "ndjson" | "sse" => classify_stream_event(dialect, None, &body, now()),
        s if s.starts_with("sse:") => classify_stream_event(dialect, s.get(4..), &body, now()),
        s => {
            let status = StatusCode::from_u16(s.parse().unwrap()).unwrap();
            Some(classify(
                dialect,
                status,
                &sidecar_headers(file),
                &body,
                now(),
            ))
        }
    }
}

fn http(file: &str, status: u16) -> Outcome {
    run_fixture(file, &status.to_string()).unwrap()
}

/// A reason must be a short identifier: never free text, never key material.
fn assert_clean_reason(outcome: &Outcome, context: &str) {
    let reason = outcome
        .reason
        .as_deref()
        .unwrap_or_else(|| panic!("{context}: no reason"));
    let clean = reason.len() <= 64
        && reason
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
    assert!(clean, "{context}: reason {reason:?}");
}

#[test]
fn every_indexed_fixture_classifies_to_its_expected_class() {
    let index = String::from_utf8(read("INDEX.tsv")).unwrap();
    let mut failures = Vec::new();
    let mut rows = 0;
    for line in index
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, status, expected] = cols[..] else {
            panic!("bad INDEX row {line:?}")
        };
        rows += 1;
        match run_fixture(file, status) {
            Some(o) if o.class.as_str() == expected => assert_clean_reason(&o, file),
            other => failures.push(format!(
                "{file} ({status}): expected {expected}, got {other:?}"
            )),
        }
    }
    assert!(rows >= 40, "INDEX.tsv lists only {rows} fixtures");
    assert!(
        failures.is_empty(),
        "misclassified:\n{}",
        failures.join("\n")
    );
}

#[test]
fn header_hints_with_fixed_now() {
    // Anthropic: retry-after 17 s, but the token window resets in 60 s.
    assert_eq!(
        http("anthropic_rate_limit.json", 429).retry_after,
        Some(Duration::from_secs(60))
    );
    // OpenAI: x-ratelimit-reset-requests "6m0s" beats retry-after 20 and the body's "20s".
    assert_eq!(
        http("openai_rate_limit.json", 429).retry_after,
        Some(Duration::from_secs(360))
    );
    // OpenRouter: X-RateLimit-Reset is epoch milliseconds, one minute ahead.
    let or = http("openrouter_rate_limit.json", 429);
    assert_eq!(or.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(or.signature.as_deref(), Some("openrouter-account"));
    // Free-models-per-day: until midnight UTC, twelve hours away.
    let daily = http("openrouter_per_day_quota.json", 429);
    assert_eq!(daily.retry_after, Some(Duration::from_secs(12 * 3600)));
    assert_eq!(daily.signature.as_deref(), Some("openrouter-account"));
}

#[test]
fn body_hints_with_fixed_now() {
    let per_minute = http("gemini_rate_limit.json", 429);
    assert_eq!(per_minute.retry_after, Some(Duration::from_secs(58)));
    assert_eq!(
        per_minute.signature.as_deref(),
        Some("GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    );
    assert!(per_minute.penalize);

    // 04:00 in Los Angeles: the daily quota resets in 20 h, not in the 5 s RetryInfo says.
    let daily = http("gemini_per_day_quota.json", 429);
    assert_eq!(
        daily.retry_after,
        Some(hints::until_pacific_midnight(now()))
    );
    assert_eq!(daily.retry_after, Some(Duration::from_secs(20 * 3600)));

    let mixed = http("gemini_day_and_minute_quota.json", 429);
    assert_eq!(mixed.class, OutcomeClass::RateLimited);
    assert_eq!(mixed.retry_after, Some(Duration::from_secs(47)));
    assert_eq!(
        mixed.signature.as_deref(),
        Some("GenerateContentInputTokensPerModelPerMinute-FreeTier,GenerateRequestsPerDayPerProjectPerModel-FreeTier,GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
    );

    let zero = http("gemini_limit_zero.json", 429);
    assert!(!zero.penalize, "limit: 0 must not be held against the key");
    assert_eq!(zero.retry_after, Some(Duration::from_secs(56)));
    assert!(!http("gemini_paid_limit_zero.json", 429).penalize);
    assert_eq!(http("gemini_quota_no_details.json", 429).signature, None);

    let tpd = http("openai_tokens_per_day.json", 429);
    assert_eq!(tpd.retry_after, Some(Duration::from_millis(69_696)));
    // Spend limit: "You will regain access on 2026-02-01 at 00:00 UTC" is 16.5 days away.
    let spend = http("anthropic_usage_limit.json", 400);
    assert_eq!(
        spend.retry_after,
        Some(Duration::from_secs(16 * 86_400 + 12 * 3600))
    );
}

#[test]
fn header_and_body_hints_combine_to_the_longest() {
    let body = read("gemini_rate_limit.json");
    let longer = headers(&[("retry-after", "120")]);
    let shorter = headers(&[("retry-after", "3")]);
    let at = |h: &HeaderMap| {
        classify(
            ErrorDialect::Gemini,
            StatusCode::TOO_MANY_REQUESTS,
            h,
            &body,
            now(),
        )
        .retry_after
    };
    assert_eq!(at(&longer), Some(Duration::from_secs(120)));
    assert_eq!(at(&shorter), Some(Duration::from_secs(58)));
}

#[test]
fn success_parks_an_exhausted_key() {
    let anthropic = headers(&[
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2026-01-15T12:00:40Z"),
    ]);
    let openai = headers(&[
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "1m30s"),
    ]);
    let ok = |d, h: &HeaderMap| {
        classify(
            d,
            StatusCode::OK,
            h,
            b"{\"id\":\"x\",\"choices\":[]}",
            now(),
        )
    };
    let parked = ok(ErrorDialect::Anthropic, &anthropic);
    assert_eq!(
        (parked.class, parked.retry_after),
        (OutcomeClass::Success, Some(Duration::from_secs(40)))
    );
    assert_eq!(
        ok(ErrorDialect::Openai, &openai).retry_after,
        Some(Duration::from_secs(90))
    );
    let plain = ok(
        ErrorDialect::Openai,
        &headers(&[("x-ratelimit-reset-requests", "1s")]),
    );
    assert_eq!(
        (plain.class, plain.retry_after),
        (OutcomeClass::Success, None)
    );
}

#[test]
fn an_error_object_in_a_200_body_is_that_error() {
    let body = read("openrouter_per_day_quota.json");
    let outcome = classify(
        ErrorDialect::Openrouter,
        StatusCode::OK,
        &HeaderMap::new(),
        &body,
        now(),
    );
    assert_eq!(outcome.class, OutcomeClass::QuotaDaily);
    let text = br#"{"choices":[{"message":{"content":"the word \"error\" is fine"}}]}"#;
    let fine = classify(
        ErrorDialect::Openrouter,
        StatusCode::OK,
        &HeaderMap::new(),
        text,
        now(),
    );
    assert_eq!(fine.class, OutcomeClass::Success);
}

/// The class a status implies when the body cannot be read.
fn status_class(status: u16) -> OutcomeClass {
    match status {
        401 => OutcomeClass::KeyInvalid,
        402 => OutcomeClass::KeyNoCredit,
        429 => OutcomeClass::RateLimited,
        400..=499 if status != 408 => OutcomeClass::ClientError,
        _ => OutcomeClass::Transient,
    }
}

const STATUSES: [u16; 15] = [
    400, 401, 402, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 520, 529,
];

#[test]
fn empty_and_non_json_bodies_fall_back_to_status() {
    let bodies: [&[u8]; 5] = [
        b"",
        b"   \n",
        b"<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
        b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
        b"Internal Server Error",
    ];
    for dialect in ALL {
        for status in STATUSES {
            for body in bodies {
                let code = StatusCode::from_u16(status).unwrap();
                let outcome = classify(dialect, code, &HeaderMap::new(), body, now());
                assert_eq!(
                    outcome.class,
                    status_class(status),
                    "{dialect:?} {status} {body:?}"
                );
                assert_clean_reason(&outcome, "fallback");
                if outcome.class == OutcomeClass::Transient {
                    assert_eq!(outcome.signature, Some(status.to_string()));
                }
            }
        }
    }
}

#[test]
fn garbage_never_panics() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut samples: Vec<Vec<u8>> = (0..400)
        .map(|_| (0..next() % 96).map(|_| next() as u8).collect())
        .collect();
    let odd_shapes = [
        "[".repeat(100_000),
        r#"{"error":5}"#.into(),
        r#"{"error":[]}"#.into(),
        r#"{"error":{"code":1e400,"details":"x","message":7}}"#.into(),
        r#"{"error":{"code":-1,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":null},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"-5s"}]}}"#.into(),
        r#"{"error":{"message":"limit: 0","metadata":{"headers":{"X-RateLimit-Reset":"99999999999999999999","bad name":"x"}}}}"#.into(),
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"You will regain access on 9999-99-99 at 99:99 UTC"}}"#.into(),
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"reached your specified API usage limits. You will regain access on 1969-01-01 at 00:00 UTC"}}"#.into(),
        r#"{"choices":[{"finish_reason":"error","error":"x"}],"error":null}"#.into(),
        "\u{feff}{\"error\":\"é\u{1F600}\"}".into(),
    ];
    samples.extend(odd_shapes.iter().map(|s| s.as_bytes().to_vec()));
    for dialect in ALL {
        for body in &samples {
            for status in [200, 400, 401, 403, 429, 503] {
                let code = StatusCode::from_u16(status).unwrap();
                let _ = classify(dialect, code, &HeaderMap::new(), body, now());
            }
            let _ = classify_stream_event(dialect, Some("error"), body, now());
            let _ = classify_stream_event(dialect, None, body, now());
        }
    }
}

fn event(dialect: ErrorDialect, name: Option<&str>, data: &str) -> Option<Outcome> {
    classify_stream_event(dialect, name, data.as_bytes(), now())
}

#[test]
fn anthropic_stream_error_types_map_to_classes() {
    let cases = [
        ("overloaded_error", OutcomeClass::Transient, Some("529")),
        ("api_error", OutcomeClass::Transient, Some("500")),
        ("rate_limit_error", OutcomeClass::RateLimited, None),
        ("authentication_error", OutcomeClass::KeyInvalid, None),
        ("permission_error", OutcomeClass::KeyInvalid, None),
        ("billing_error", OutcomeClass::KeyNoCredit, None),
        ("invalid_request_error", OutcomeClass::ClientError, None),
    ];
    for (error_type, class, signature) in cases {
        let data = format!(r#"{{"type":"error","error":{{"type":"{error_type}","message":"m"}}}}"#);
        let outcome = event(ErrorDialect::Anthropic, Some("error"), &data).unwrap();
        assert_eq!(
            (outcome.class, outcome.signature.as_deref()),
            (class, signature),
            "{error_type}"
        );
        assert_eq!(outcome.reason.as_deref(), Some(error_type));
    }
    let content = [
        (
            "message_start",
            r#"{"type":"message_start","message":{"id":"msg_1","content":[]}}"#,
        ),
        (
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"error"}}"#,
        ),
        ("ping", r#"{"type": "ping"}"#),
    ];
    for (name, data) in content {
        assert_eq!(
            event(ErrorDialect::Anthropic, Some(name), data),
            None,
            "{name}"
        );
    }
    let unreadable = event(ErrorDialect::Anthropic, Some("error"), "not json").unwrap();
    assert_eq!(unreadable.class, OutcomeClass::Transient);
}

#[test]
fn openai_like_stream_errors() {
    let chunk = r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#;
    for dialect in [ErrorDialect::Openai, ErrorDialect::Openrouter] {
        assert_eq!(event(dialect, None, chunk), None);
        assert_eq!(event(dialect, None, "[DONE]"), None);
        let quota = event(
            dialect,
            None,
            r#"{"error":{"message":"q","type":"insufficient_quota","code":"insufficient_quota"}}"#,
        );
        assert_eq!(quota.map(|o| o.class), Some(OutcomeClass::KeyNoCredit));
        let numeric = event(
            dialect,
            None,
            r#"{"error":{"code":"502","message":"bad gateway"}}"#,
        )
        .unwrap();
        assert_eq!(
            (numeric.class, numeric.signature.as_deref()),
            (OutcomeClass::Transient, Some("502"))
        );
        let unknown = event(dialect, None, r#"{"error":{"message":"?"}}"#).unwrap();
        assert_eq!(unknown.class, OutcomeClass::Transient);
    }
    let finished = r#"{"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#;
    assert_eq!(
        event(ErrorDialect::Openrouter, None, finished).map(|o| o.class),
        Some(OutcomeClass::Transient)
    );
    let in_choice = r#"{"choices":[{"finish_reason":"error","error":{"code":401,"message":"User not found."}}]}"#;
    assert_eq!(
        event(ErrorDialect::Openrouter, None, in_choice).map(|o| o.class),
        Some(OutcomeClass::KeyInvalid)
    );
    let stream_429 = run_fixture("openrouter_stream_rate_limit.json", "sse").unwrap();
    assert_eq!(stream_429.retry_after, Some(Duration::from_secs(60)));
    assert_eq!(stream_429.signature.as_deref(), Some("openrouter-account"));
}

#[test]
fn gemini_and_ollama_stream_errors() {
    let chunk = r#"{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"}}]}"#;
    assert_eq!(event(ErrorDialect::Gemini, None, chunk), None);
    let overloaded = run_fixture("gemini_stream_overloaded.json", "sse").unwrap();
    assert_eq!(overloaded.signature.as_deref(), Some("503"));
    let quota = String::from_utf8(read("gemini_per_day_quota.json")).unwrap();
    assert_eq!(
        event(ErrorDialect::Gemini, None, &quota).map(|o| o.class),
        Some(OutcomeClass::QuotaDaily)
    );

    let line = r#"{"model":"gpt-oss:120b","created_at":"2026-01-15T12:00:00Z","message":{"role":"assistant","content":"hi"},"done":false}"#;
    assert_eq!(event(ErrorDialect::Ollama, None, line), None);
    let cases = [
        (r#"{"error":"unauthorized"}"#, OutcomeClass::KeyInvalid),
        (
            r#"{"error":"rate limit exceeded"}"#,
            OutcomeClass::RateLimited,
        ),
        (r#"{"error":"quota exhausted"}"#, OutcomeClass::RateLimited),
        (
            r#"{"error":"you have reached your weekly usage limit"}"#,
            OutcomeClass::KeyNoCredit,
        ),
        (
            r#"{"error":{"message":"boom","type":"api_error"}}"#,
            OutcomeClass::Transient,
        ),
    ];
    for (data, class) in cases {
        assert_eq!(
            event(ErrorDialect::Ollama, None, data).map(|o| o.class),
            Some(class),
            "{data}"
        );
    }
}

#[test]
fn transport_failures_are_transient_with_a_signature() {
    let cases = [
        (TransportFailure::Connect, "connect"),
        (TransportFailure::Reset, "connect"),
        (TransportFailure::FirstByteTimeout, "timeout"),
    ];
    for (kind, signature) in cases {
        let outcome = classify_transport(kind);
        assert_eq!(
            (outcome.class, outcome.signature.as_deref()),
            (OutcomeClass::Transient, Some(signature))
        );
    }
}

#[test]
fn dialect_names_are_kebab_case() {
    let names = serde_json::to_string(&ALL).unwrap();
    assert_eq!(
        names,
        r#"["anthropic","openai","gemini","openrouter","ollama"]"#
    );
}

#[test]
fn echoed_keys_in_fixtures_are_redacted() {
    let openai = redact(
        &read("openai_invalid_key.json"),
        "sk-proj-unrelated-key-0000",
    );
    let openai = String::from_utf8(openai.to_vec()).unwrap();
    assert!(
        !openai.contains("***") && openai.contains("provided: [redacted]. You can"),
        "{openai}"
    );
    assert!(
        serde_json::from_str::<serde_json::Value>(&openai).is_ok(),
        "still JSON"
    );
    let google = redact(&read("gemini_suspended.json"), "AIzaFakeFakeKey000");
    assert!(!String::from_utf8_lossy(&google).contains("AIzaFake"));
}

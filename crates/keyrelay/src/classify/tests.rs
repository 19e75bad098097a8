//! Classification tests. The fixture table (`testkit/fixtures/errors/INDEX.tsv`)
//! drives the main test: adding a real provider body there adds a case.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use keypool::{hints, Outcome, OutcomeClass};

use crate::dialect::{classify, classify_stream_event, Dialect};
use crate::redact::redact;
use crate::transport::TransportFailure;

use Dialect::{Anthropic as A, Gemini as G, Ollama as L, OpenaiChat as O, Openrouter as R};

const ALL: [Dialect; 5] = [A, O, G, R, L];

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
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once(':')).collect();
    headers(&pairs)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let header = |(n, v): &(&str, &str)| {
        (
            n.trim().parse::<HeaderName>().unwrap(),
            HeaderValue::from_str(v.trim()).unwrap(),
        )
    };
    pairs.iter().map(header).collect()
}

/// Fixtures are named after the provider whose body they hold.
fn dialect_of(file: &str) -> Dialect {
    match file.split('_').next().unwrap_or_default() {
        "anthropic" => A,
        "openai" => O,
        "gemini" => G,
        "openrouter" => R,
        "ollama" => L,
        // LiteLLM speaks the OpenAI dialect.
        "litellm" => O,
        name => panic!("fixture {file}: unknown provider {name:?}"),
    }
}

/// `classify` with a numeric status.
fn call(dialect: Dialect, status: u16, headers: &HeaderMap, body: &[u8]) -> Outcome {
    classify(
        dialect,
        StatusCode::from_u16(status).unwrap(),
        headers,
        body,
        now(),
    )
}

/// Classifies a fixture the way its INDEX row says it arrives.
fn run_fixture(file: &str, status: &str) -> Option<Outcome> {
    let (dialect, body) = (dialect_of(file), read(file));
    match status {
        "ndjson" | "sse" => classify_stream_event(dialect, None, &body, now()),
        s if s.starts_with("sse:") => classify_stream_event(dialect, s.get(4..), &body, now()),
        s => Some(call(
            dialect,
            s.parse().unwrap(),
            &sidecar_headers(file),
            &body,
        )),
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

/// (fixture, status, expected retry_after in ms, expected signature), `now` fixed.
const HINTS: [(&str, u16, Option<u64>, Option<&str>); 11] = [
    // retry-after 17 s, but the token window resets in 60 s (RFC 3339 stamp).
    ("anthropic_rate_limit.json", 429, Some(60_000), None),
    // x-ratelimit-reset-requests "6m0s" beats retry-after 20 and the body's "try again in 20s".
    ("openai_rate_limit.json", 429, Some(360_000), None),
    // No headers: the body's "Please try again in 1m9.696s."
    ("openai_tokens_per_day.json", 429, Some(69_696), None),
    // X-RateLimit-Reset in epoch milliseconds, one minute ahead.
    (
        "openrouter_rate_limit.json",
        429,
        Some(60_000),
        Some("openrouter-account"),
    ),
    // The free-model day ends at midnight UTC, twelve hours away.
    (
        "openrouter_per_day_quota.json",
        429,
        Some(43_200_000),
        Some("openrouter-account"),
    ),
    // Per-model quotas: scoped to the model, so no signature shared across projects.
    ("gemini_rate_limit.json", 429, Some(58_000), None),
    // 04:00 in Los Angeles: the daily quota resets in 20 h, not in the 5 s RetryInfo says.
    ("gemini_per_day_quota.json", 429, Some(72_000_000), None),
    ("gemini_day_and_minute_quota.json", 429, Some(47_000), None),
    // A project quota that is not per model keeps its signature.
    ("gemini_project_rate_limit.json", 429, None, None),
    ("gemini_quota_no_details.json", 429, None, None),
    // "You will regain access on 2026-02-01 at 00:00 UTC": 16.5 days away.
    ("anthropic_usage_limit.json", 400, Some(1_425_600_000), None),
];

#[test]
fn hints_and_signatures_with_fixed_now() {
    for (file, status, millis, signature) in HINTS {
        let outcome = http(file, status);
        assert_eq!(
            outcome.retry_after,
            millis.map(Duration::from_millis),
            "{file}"
        );
        assert_eq!(outcome.signature.as_deref(), signature, "{file}");
    }
    let daily = http("gemini_per_day_quota.json", 429);
    assert_eq!(
        daily.retry_after,
        Some(hints::until_pacific_midnight(now()))
    );
    for file in ["gemini_limit_zero.json", "gemini_paid_limit_zero.json"] {
        let outcome = http(file, 429);
        assert!(
            outcome.model_scope().is_some(),
            "{file}: limit 0 parks the key for this model only"
        );
        assert_eq!(
            outcome.retry_after,
            Some(hints::until_pacific_midnight(now())),
            "{file}"
        );
    }
    assert!(http("gemini_rate_limit.json", 429).penalize);
}

/// (fixture, status, model the cooldown is scoped to, quota group named).
/// `Some("")`: a per-model quota whose model the body does not name; the
/// gateway scopes it to the request's model.
const SCOPES: [(&str, u16, Option<&str>, Option<&str>); 10] = [
    ("gemini_rate_limit.json", 429, Some("gemini-3-flash"), None),
    (
        "gemini_per_day_quota.json",
        429,
        Some("gemini-2.0-pro-exp"),
        None,
    ),
    ("gemini_limit_zero.json", 429, Some("gemini-2.5-pro"), None),
    ("gemini_paid_limit_zero.json", 429, Some(""), None),
    (
        "gemini_project_rate_limit.json",
        429,
        None,
        Some("projects/100000000001"),
    ),
    ("gemini_invalid_key.json", 400, None, None),
    (
        "openai_rate_limit.json",
        429,
        Some("gpt-4o"),
        Some("org-FAKEFAKEFAKE"),
    ),
    (
        "openai_tokens_per_day.json",
        429,
        Some("gpt-4-turbo-preview"),
        Some("org-FAKEFAKEFAKE"),
    ),
    // No credit is the account's, never one model's.
    ("openai_no_credit.json", 429, None, None),
    ("anthropic_rate_limit.json", 429, None, None),
];

#[test]
fn per_model_scopes_and_quota_groups_from_real_bodies() {
    for (file, status, model, group) in SCOPES {
        let outcome = http(file, status);
        assert_eq!(outcome.model_scope(), model, "{file}: model scope");
        assert_eq!(outcome.group.as_deref(), group, "{file}: group");
    }
}

#[test]
fn the_openai_organization_header_names_the_group_on_any_answer() {
    let org = headers(&[("openai-organization", "user-fakefakefake")]);
    let ok = call(O, 200, &org, b"{\"id\":\"x\",\"choices\":[]}");
    assert_eq!(ok.class, OutcomeClass::Success);
    assert_eq!(ok.group.as_deref(), Some("user-fakefakefake"));
    let failed = call(O, 503, &org, &read("openai_overloaded.json"));
    assert_eq!(failed.group.as_deref(), Some("user-fakefakefake"));
    // The header's name wins over the id the message quotes, so a key's
    // group reads the same on a success and on a 429.
    let limited = call(O, 429, &org, &read("openai_rate_limit.json"));
    assert_eq!(limited.group.as_deref(), Some("user-fakefakefake"));
    assert_eq!(limited.model_scope(), Some("gpt-4o"));
    // Other dialects ignore it.
    assert_eq!(call(A, 200, &org, b"{}").group, None);
}

#[test]
fn header_and_body_hints_combine_to_the_longest() {
    let body = read("gemini_rate_limit.json");
    let at = |secs| call(G, 429, &headers(&[("retry-after", secs)]), &body).retry_after;
    assert_eq!(at("120"), Some(Duration::from_secs(120)));
    assert_eq!(at("3"), Some(Duration::from_secs(58)));
}

#[test]
fn success_parks_an_exhausted_key() {
    let ok = |dialect, pairs: &[(&str, &str)]| {
        let body = b"{\"id\":\"x\",\"choices\":[]}";
        let outcome = call(dialect, 200, &headers(pairs), body);
        assert_eq!(outcome.class, OutcomeClass::Success);
        outcome.retry_after
    };
    let anthropic = [
        ("anthropic-ratelimit-requests-remaining", "0"),
        ("anthropic-ratelimit-requests-reset", "2026-01-15T12:00:40Z"),
    ];
    let openai = [
        ("x-ratelimit-remaining-requests", "0"),
        ("x-ratelimit-reset-requests", "1m30s"),
    ];
    assert_eq!(ok(A, &anthropic), Some(Duration::from_secs(40)));
    assert_eq!(ok(O, &openai), Some(Duration::from_secs(90)));
    assert_eq!(ok(O, &[("x-ratelimit-reset-requests", "1s")]), None);
}

#[test]
fn an_error_object_in_a_200_body_is_that_error() {
    let ok = |body: &[u8]| call(R, 200, &HeaderMap::new(), body).class;
    assert_eq!(
        ok(&read("openrouter_per_day_quota.json")),
        OutcomeClass::QuotaDaily
    );
    let text = br#"{"choices":[{"message":{"content":"the word \"error\" is fine"}}]}"#;
    assert_eq!(ok(text), OutcomeClass::Success);
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
                let outcome = call(dialect, status, &HeaderMap::new(), body);
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
                let _ = call(dialect, status, &HeaderMap::new(), body);
            }
            let _ = classify_stream_event(dialect, Some("error"), body, now());
            let _ = classify_stream_event(dialect, None, body, now());
        }
    }
}

/// A stream case: (dialect, SSE event name, data, expected class, expected signature); `None`
/// as the class means "not an error, pass it on".
type StreamCase = (
    Dialect,
    Option<&'static str>,
    &'static str,
    Option<OutcomeClass>,
    Option<&'static str>,
);

#[rustfmt::skip]
const STREAM: [StreamCase; 27] = [
    (A, Some("error"), r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, Some(OutcomeClass::Transient), Some("529")),
    (A, Some("error"), r#"{"type":"error","error":{"type":"api_error","message":"m"}}"#, Some(OutcomeClass::Transient), Some("500")),
    (A, Some("error"), r#"{"type":"error","error":{"type":"rate_limit_error","message":"m"}}"#, Some(OutcomeClass::RateLimited), None),
    (A, Some("error"), r#"{"type":"error","error":{"type":"authentication_error","message":"m"}}"#, Some(OutcomeClass::KeyInvalid), None),
    (A, Some("error"), r#"{"type":"error","error":{"type":"permission_error","message":"m"}}"#, Some(OutcomeClass::KeyInvalid), None),
    (A, Some("error"), r#"{"type":"error","error":{"type":"billing_error","message":"m"}}"#, Some(OutcomeClass::KeyNoCredit), None),
    (A, Some("error"), r#"{"type":"error","error":{"type":"invalid_request_error","message":"m"}}"#, Some(OutcomeClass::ClientError), None),
    (A, Some("error"), "not json", Some(OutcomeClass::Transient), Some("stream_error")),
    (A, Some("message_start"), r#"{"type":"message_start","message":{"id":"msg_1","content":[]}}"#, None, None),
    (A, Some("content_block_delta"), r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"error"}}"#, None, None),
    (A, Some("ping"), r#"{"type": "ping"}"#, None, None),
    (O, None, r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#, None, None),
    (O, None, "[DONE]", None, None),
    (O, None, r#"{"error":{"message":"q","type":"insufficient_quota","code":"insufficient_quota"}}"#, Some(OutcomeClass::KeyNoCredit), None),
    (O, None, r#"{"error":{"message":"?"}}"#, Some(OutcomeClass::Transient), Some("stream_error")),
    (R, None, r#"{"error":{"code":"502","message":"bad gateway"}}"#, Some(OutcomeClass::Transient), Some("502")),
    (R, None, r#"{"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}"#, Some(OutcomeClass::Transient), Some("stream_error")),
    (R, None, r#"{"choices":[{"finish_reason":"error","error":{"code":401,"message":"User not found."}}]}"#, Some(OutcomeClass::KeyInvalid), None),
    (R, None, r#"{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}"#, None, None),
    (G, None, r#"{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"}}]}"#, None, None),
    (G, None, r#"{"error":{"code":429,"message":"m","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#, Some(OutcomeClass::QuotaDaily), None),
    (L, None, r#"{"model":"gpt-oss:120b","message":{"role":"assistant","content":"hi"},"done":false}"#, None, None),
    (L, None, r#"{"error":"unauthorized"}"#, Some(OutcomeClass::KeyInvalid), None),
    (L, None, r#"{"error":"rate limit exceeded"}"#, Some(OutcomeClass::RateLimited), None),
    (L, None, r#"{"error":"quota exhausted"}"#, Some(OutcomeClass::RateLimited), None),
    (L, None, r#"{"error":"you have reached your weekly usage limit"}"#, Some(OutcomeClass::KeyNoCredit), None),
    (L, None, r#"{"error":{"message":"boom","type":"api_error"}}"#, Some(OutcomeClass::Transient), Some("stream_error")),
];

#[test]
fn stream_events_are_classified_or_passed_on() {
    for (dialect, name, data, class, signature) in STREAM {
        let outcome = classify_stream_event(dialect, name, data.as_bytes(), now());
        let context = format!("{dialect:?} {name:?} {data}");
        assert_eq!(outcome.as_ref().map(|o| o.class), class, "{context}");
        assert_eq!(
            outcome.as_ref().and_then(|o| o.signature.as_deref()),
            signature,
            "{context}"
        );
        if let Some(outcome) = &outcome {
            assert_clean_reason(outcome, &context);
        }
    }
    // An Anthropic error event names its type as the reason.
    let data = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let overloaded = classify_stream_event(A, Some("error"), data, now()).unwrap();
    assert_eq!(overloaded.reason.as_deref(), Some("overloaded_error"));
    // The in-stream OpenRouter 429 keeps its metadata reset hint.
    let stream_429 = run_fixture("openrouter_stream_rate_limit.json", "sse").unwrap();
    assert_eq!(stream_429.retry_after, Some(Duration::from_secs(60)));
}

#[test]
fn transport_failures_are_transient_with_a_signature() {
    let cases = [
        (TransportFailure::Connect, "connect"),
        (TransportFailure::Reset, "connect"),
        (TransportFailure::FirstByteTimeout, "timeout"),
        (TransportFailure::Stalled, "timeout"),
    ];
    for (kind, signature) in cases {
        let outcome = kind.outcome();
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
        r#"["anthropic","openai-chat","gemini","openrouter","ollama"]"#
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

#[test]
fn litellm_budget_invalid_key_and_no_database_errors_classify_by_their_type() {
    let cases = [
        (
            "litellm_budget_exceeded.json",
            429,
            OutcomeClass::KeyNoCredit,
            "budget_exceeded",
        ),
        (
            "litellm_invalid_key.json",
            401,
            OutcomeClass::KeyInvalid,
            "auth_error",
        ),
        (
            "litellm_no_db_connection.json",
            400,
            OutcomeClass::KeyInvalid,
            "no_db_connection",
        ),
    ];
    for (file, status, class, reason) in cases {
        let outcome = http(file, status);
        assert_eq!(
            (outcome.class, outcome.reason.as_deref()),
            (class, Some(reason)),
            "{file}"
        );
    }
    // A budget parks the key for hours, not for a rate limit's seconds.
    let budget = http("litellm_budget_exceeded.json", 429);
    assert_ne!(budget.class, OutcomeClass::RateLimited);
    // The database being down is the proxy's trouble, not the key's.
    let down = br#"{"error":{"message":"Database connection error during authentication","type":"no_db_connection","param":null,"code":"503"}}"#;
    assert_eq!(
        call(O, 503, &HeaderMap::new(), down).class,
        OutcomeClass::Transient
    );
    // Only the OpenAI dialect (LiteLLM's) reads LiteLLM's types.
    let body = read("litellm_budget_exceeded.json");
    assert_eq!(
        call(A, 429, &HeaderMap::new(), &body).class,
        OutcomeClass::RateLimited
    );
    // Ordinary OpenAI errors are untouched.
    assert_eq!(
        http("openai_validation_error.json", 400).class,
        OutcomeClass::ClientError
    );
}

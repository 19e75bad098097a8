use std::time::Duration;

use keypool::{ApiKey, AttemptRecord, OutcomeClass};
use serde_json::json;

use super::*;

fn record(
    key: &ApiKey,
    class: OutcomeClass,
    status: Option<u16>,
    retry_ms: Option<u64>,
) -> AttemptRecord {
    AttemptRecord {
        key: key.fingerprint().clone(),
        class,
        status,
        retry_after: retry_ms.map(Duration::from_millis),
        reason: None,
        elapsed: Duration::ZERO,
    }
}

/// Splits a header back into (provider, key, class, status, retry) tuples,
/// as a client would.
fn parse(header: &str) -> Vec<(String, String, String, String, Option<String>)> {
    let decode = |text: &str| {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    header
        .split(", ")
        .map(|entry| {
            let (who, how) = entry.split_once('=').unwrap();
            let (provider, key) = who.split_once(':').unwrap();
            let mut parts = how.split('/');
            let class = parts.next().unwrap().to_owned();
            let status = parts.next().unwrap().to_owned();
            let retry = parts.next().map(str::to_owned);
            (decode(provider), decode(key), class, status, retry)
        })
        .collect()
}

#[test]
fn the_header_names_provider_fingerprint_class_status_and_hint() {
    let first = ApiKey::new("test-key-limited-000000000002", None);
    let second = ApiKey::new("test-key-good-00000000000003", None);
    let mut log = AttemptLog::default();
    log.extend(
        "gemini",
        &[record(
            &first,
            OutcomeClass::RateLimited,
            Some(429),
            Some(29_200),
        )],
    );
    log.extend(
        "openai",
        &[
            record(&second, OutcomeClass::Transient, None, None),
            record(&second, OutcomeClass::Success, Some(200), None),
        ],
    );
    let header = log.compact();
    let shown = |key: &ApiKey| key.fingerprint().as_str().replace('…', "...");
    assert_eq!(
        header,
        format!(
            "gemini:{}=rate_limited/429/30s, openai:{}=transient/-, openai:{}=success/200",
            shown(&first),
            shown(&second),
            shown(&second)
        )
    );
    assert!(header.is_ascii() && !header.contains("0000000002"));
    assert_eq!(log.header().to_str().unwrap(), header);
}

#[test]
fn labels_with_separators_are_escaped_and_parse_back() {
    let labelled = ApiKey::new("test-key-limited-000000000002", Some("team a, key=1/2: ü"));
    let mut log = AttemptLog::default();
    log.extend(
        "my provider",
        &[record(
            &labelled,
            OutcomeClass::KeyNoCredit,
            Some(402),
            None,
        )],
    );
    log.extend(
        "openai",
        &[record(&labelled, OutcomeClass::Success, Some(200), None)],
    );
    let header = log.compact();
    assert_eq!(header.matches(", ").count(), 1, "{header}");
    let parsed = parse(&header);
    assert_eq!(
        parsed[0],
        (
            "my provider".to_owned(),
            "team a, key=1/2: ü".to_owned(),
            "key_no_credit".to_owned(),
            "402".to_owned(),
            None
        )
    );
    assert_eq!(parsed[1].3, "200");
}

#[test]
fn a_long_log_is_cut_with_a_count_of_the_rest() {
    let key = ApiKey::new("test-key-limited-000000000002", None);
    let mut log = AttemptLog::default();
    let many: Vec<_> = (0..HEADER_ENTRIES + 3)
        .map(|_| record(&key, OutcomeClass::Transient, Some(503), None))
        .collect();
    log.extend("gemini", &many);
    let header = log.compact();
    let entries: Vec<&str> = header.split(", ").collect();
    assert_eq!(entries.len(), HEADER_ENTRIES + 1);
    assert_eq!(entries.last(), Some(&"+3"));
}

#[test]
fn the_json_form_has_one_object_per_attempt() {
    let key = ApiKey::new("test-key-limited-000000000002", None);
    let mut log = AttemptLog::default();
    let mut limited = record(&key, OutcomeClass::RateLimited, Some(429), Some(30_000));
    limited.reason = Some("rate_limit_exceeded".into());
    log.extend(
        "gemini",
        &[limited, record(&key, OutcomeClass::Transient, None, None)],
    );
    assert_eq!(
        log.json(),
        json!([
            {"provider": "gemini", "key": key.fingerprint().as_str(), "class": "rate_limited",
             "status": 429, "retry_after_s": 30, "reason": "rate_limit_exceeded"},
            {"provider": "gemini", "key": key.fingerprint().as_str(), "class": "transient",
             "status": null, "retry_after_s": null, "reason": null},
        ])
    );
}

//! Fallback chains on /v1/messages: a request whose provider cannot serve
//! goes to the next target, translated as that target needs, whole or
//! streamed, until the stream's first byte reached the client.

use keyrelay::server::ServeSettings;
use serde_json::Value;
use testkit::{fixture_bytes, FakeUpstream, Reply, SseEvent};

use super::*;

const GEMINI_TO_OPENAI: &str = "[fallbacks]\n\"gemini@*\" = [\"openai@gpt-4.1-mini\"]\n";

fn gemini_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json")
}

/// Gemini with two keys on one upstream, OpenAI with one key on another.
async fn gemini_and_openai(
    gemini: &FakeUpstream,
    openai: &FakeUpstream,
    toml: &str,
) -> RunningGateway {
    let gemini_keys = format!("{LIMITED},{LIMITED_TOO}");
    start(
        &[
            ("GEMINI_API_KEYS", gemini_keys.as_str()),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
        ],
        toml,
    )
    .await
}

/// `…0002#1a2b` as the attempt-log header writes it.
fn shown(key: &str) -> String {
    fingerprint(key).replace('…', "...")
}

/// The text of an Anthropic answer, whole or streamed.
async fn answer_text(response: reqwest::Response, stream: bool) -> String {
    if !stream {
        let body: Value = response.json().await.expect("a JSON message");
        return body["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    let body = response.text().await.expect("the stream ends cleanly");
    assert!(body.contains("event: message_stop"), "{body}");
    assert!(!body.contains("event: error"), "{body}");
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|e| e["type"] == "content_block_delta")
        .filter_map(|e| e["delta"]["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_exhausted_gemini_pool_falls_back_to_openai_whole_and_streamed() {
    for stream in [false, true] {
        let context = if stream { "streamed" } else { "whole" };
        let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
        // Two different per-minute quotas: each key cools on its own.
        gemini.on_key(LIMITED, [gemini_429()]);
        gemini.on_key(
            LIMITED_TOO,
            [Reply::fixture(
                429,
                "fixtures/errors/gemini_input_tokens_per_minute.json",
            )],
        );
        let text = "served by the fallback";
        let answer = if stream {
            Reply::openai_chat_stream(text)
        } else {
            Reply::openai_chat(text)
        };
        openai.on_key(GOOD, [answer]);
        let gateway = gemini_and_openai(&gemini, &openai, GEMINI_TO_OPENAI).await;

        let request = message_request("gemini@gemini-2.5-pro", stream);
        let response = post_messages(&gateway, &request).await;
        assert_eq!(response.status(), 200, "{context}");
        assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
        assert_eq!(header(&response, "x-keyrelay-model"), "gpt-4.1-mini");
        assert_eq!(header(&response, "x-keyrelay-fallback"), "1");
        assert_eq!(header(&response, "x-keyrelay-key"), shown(GOOD));
        assert_eq!(attempts(&response), 3, "{context}");
        assert_eq!(
            header(&response, "x-keyrelay-attempt-log"),
            format!(
                "gemini:{}=rate_limited/429/58s, gemini:{}=rate_limited/429/26s, openai:{}=success/200",
                shown(LIMITED),
                shown(LIMITED_TOO),
                shown(GOOD)
            ),
            "{context}"
        );
        assert_eq!(answer_text(response, stream).await, text, "{context}");
        assert_eq!((gemini.total_hits(), openai.hits(GOOD)), (2, 1));
        let sent = &openai.requests()[0];
        assert_eq!(sent.path, "/chat/completions");
        let sent = sent.json().unwrap();
        assert_eq!(sent["model"], "gpt-4.1-mini");
        assert_eq!(sent["stream"].as_bool().unwrap_or(false), stream);

        // The Gemini keys are cooling now: the pool refuses without a call,
        // and the request goes straight on to the fallback.
        let again = post_messages(&gateway, &request).await;
        assert_eq!(again.status(), 200, "{context}");
        assert_eq!(header(&again, "x-keyrelay-fallback"), "1");
        assert_eq!(
            header(&again, "x-keyrelay-attempt-log"),
            format!("openai:{}=success/200", shown(GOOD))
        );
        assert_eq!(
            gemini.total_hits(),
            2,
            "{context}: the refusal touched no key"
        );
    }
}

#[tokio::test]
async fn the_primary_serving_sets_no_fallback_header() {
    let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
    gemini.on_key(LIMITED, [Reply::gemini_generate("from gemini")]);
    let gateway = gemini_and_openai(&gemini, &openai, GEMINI_TO_OPENAI).await;
    let response = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    assert_eq!(header(&response, "x-keyrelay-model"), "gemini-2.5-pro");
    assert!(response.headers().get("x-keyrelay-fallback").is_none());
    assert!(
        response.headers().get("x-keyrelay-attempt-log").is_none(),
        "one clean attempt: the key and attempts headers say it all"
    );
    assert_eq!(openai.total_hits(), 0);
}

#[tokio::test]
async fn a_client_error_on_the_primary_does_not_fall_back() {
    let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
    gemini.on_key(
        LIMITED,
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_validation_error.json",
        )],
    );
    openai.on_key(GOOD, [Reply::openai_chat("never")]);
    let gateway = gemini_and_openai(&gemini, &openai, GEMINI_TO_OPENAI).await;
    let response = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", false)).await;
    assert_eq!(response.status(), 400);
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    assert!(response.headers().get("x-keyrelay-fallback").is_none());
    assert_eq!(
        header(&response, "x-keyrelay-attempt-log"),
        format!("gemini:{}=client_error/400", shown(LIMITED))
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    assert!(
        body["error"].get("attempts").is_none(),
        "a client error is passed on, not an exhaustion error: {body}"
    );
    assert_eq!(openai.total_hits(), 0);
}

#[tokio::test]
async fn a_stream_whose_first_event_is_an_error_falls_back() {
    let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
    let overloaded = || {
        let event = fixture_bytes("fixtures/errors/gemini_stream_overloaded.json");
        Reply::sse(vec![SseEvent::data(String::from_utf8_lossy(&event))])
    };
    gemini.on_key(LIMITED, [overloaded()]);
    gemini.on_key(LIMITED_TOO, [overloaded()]);
    openai.on_key(GOOD, [Reply::openai_chat_stream("after the hold")]);
    // The rule from the command line (`--fallback`) rather than the file.
    let settings = ServeSettings {
        fallbacks: vec![("gemini@*".to_owned(), vec!["oai/gpt-4.1".to_owned()])],
        ..ServeSettings::default()
    };
    let gemini_keys = format!("{LIMITED},{LIMITED_TOO}");
    let env = [
        ("GEMINI_API_KEYS", gemini_keys.as_str()),
        ("GEMINI_BASE_URL", &gemini.base_url()),
        ("OPENAI_API_KEYS", GOOD),
        ("OPENAI_BASE_URL", &openai.base_url()),
    ];
    let gateway = start_settings(&env, &settings).await;
    let response = post_messages(&gateway, &message_request("gemini@gemini-2.5-pro", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        (
            header(&response, "x-keyrelay-provider"),
            header(&response, "x-keyrelay-model"),
            header(&response, "x-keyrelay-fallback")
        ),
        ("openai", "gpt-4.1", "1")
    );
    let log = header(&response, "x-keyrelay-attempt-log").to_owned();
    assert!(
        log.starts_with(&format!("gemini:{}=transient/200", shown(LIMITED))),
        "an error inside a 200 stream is logged with its status: {log}"
    );
    assert_eq!(answer_text(response, true).await, "after the hold");
    assert_eq!(gemini.total_hits(), 2);
}

#[tokio::test]
async fn a_stream_that_already_sent_content_does_not_fall_back() {
    let (openai, anthropic) = (FakeUpstream::start().await, FakeUpstream::start().await);
    openai.on_key(
        GOOD,
        [Reply::openai_chat_stream("one two three four").cut_after(3)],
    );
    anthropic.on_key(LIMITED, [Reply::anthropic_stream("never")]);
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
            ("ANTHROPIC_API_KEYS", LIMITED),
            ("ANTHROPIC_UPSTREAM_BASE_URL", anthropic.base_url().as_str()),
        ],
        "[fallbacks]\n\"openai@*\" = [\"anthropic@claude-sonnet-4-5\"]\n",
    )
    .await;
    let response = post_messages(&gateway, &message_request("openai@gpt-4.1", true)).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("x-keyrelay-fallback").is_none());
    let body = response.text().await.expect("the stream ends cleanly");
    assert!(
        body.contains("event: error"),
        "the break is reported: {body}"
    );
    assert_eq!(
        anthropic.total_hits(),
        0,
        "no fallback once content went out"
    );
}

#[tokio::test]
async fn targets_are_tried_in_order_and_the_last_error_lists_every_target() {
    let (gemini, openai, anthropic) = (
        FakeUpstream::start().await,
        FakeUpstream::start().await,
        FakeUpstream::start().await,
    );
    gemini.on_key(LIMITED, [gemini_429()]);
    openai.on_key(
        GOOD,
        [
            Reply::fixture(429, "fixtures/errors/openai_rate_limit.json")
                .header("retry-after", "20"),
        ],
    );
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", LIMITED),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
            ("ANTHROPIC_UPSTREAM_BASE_URL", anthropic.base_url().as_str()),
        ],
        "[fallbacks]\n\"gemini@*\" = [\"anthropic@claude-sonnet-4-5\", \"openai@gpt-4.1\"]\n",
    )
    .await;
    let response = post_messages(&gateway, &message_request("g/gemini-2.5-pro", false)).await;
    // The last target's end decides status, type and retry-after.
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "retry-after"), "20");
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-fallback"), "2");
    assert_eq!(attempts(&response), 2);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let message = body["error"]["message"].as_str().unwrap();
    for part in [
        "gemini could not serve it",
        "no API keys configured for anthropic",
        "openai could not serve it",
        "Rate limit reached",
    ] {
        assert!(message.contains(part), "`{part}` in {message}");
    }
    let attempts: Vec<(&str, &str)> = body["error"]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["provider"].as_str().unwrap(),
                a["class"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [("gemini", "rate_limited"), ("openai", "rate_limited")]
    );
    assert_eq!(anthropic.total_hits(), 0);
}

#[tokio::test]
async fn a_fallback_target_that_does_not_route_stops_the_gateway_from_starting() {
    let config =
        keyrelay::config::Config::from_toml("[fallbacks]\n\"gemini@*\" = [\"nosuch@model\"]\n")
            .unwrap();
    let settings = ServeSettings {
        config,
        ..ServeSettings::default()
    };
    let env = keyrelay::env::MapEnv::default();
    let error = RunningGateway::start(&settings, &env)
        .await
        .err()
        .expect("the gateway refuses to start");
    let text = format!("{error:#}");
    assert!(
        text.contains("gemini@*") && text.contains("nosuch@model"),
        "{text}"
    );
}

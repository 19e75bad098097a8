//! The key pool under a Responses client: failover, exhaustion, fallback
//! chains, session affinity, and keyrelay's own errors in OpenAI's shape.

use testkit::{FakeUpstream, Reply};

use super::*;

fn gemini_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json")
}

#[tokio::test]
async fn a_rate_limited_key_fails_over_before_the_client_sees_a_byte() {
    for stream in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(
            LIMITED,
            [Reply::fixture(
                429,
                "fixtures/errors/anthropic_rate_limit.json",
            )],
        );
        let good = if stream {
            Reply::anthropic_stream("served by the second key")
        } else {
            Reply::anthropic_message("served by the second key")
        };
        upstream.on_key(GOOD, [good]);
        let keys = format!("{LIMITED},{GOOD}");
        let gateway = start(
            &[
                ("ANTHROPIC_API_KEYS", keys.as_str()),
                ("ANTHROPIC_UPSTREAM_BASE_URL", upstream.base_url().as_str()),
            ],
            "",
        )
        .await;
        let response = post(&gateway, &simple_request("claude-sonnet-4-5", stream)).await;
        assert_eq!(attempts(&response), 2);
        assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
        assert!(
            header(&response, "x-keyrelay-attempt-log").contains("=rate_limited/429"),
            "{:?}",
            response.headers()
        );
        let text = if stream {
            events(response).await.text()
        } else {
            output_text(&response_object(response).await)
        };
        assert_eq!(text, "served by the second key");
    }
}

#[tokio::test]
async fn a_native_stream_fails_over_too() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [Reply::fixture(
            429,
            "fixtures/errors/openai_rate_limit.json",
        )],
    );
    let recorded = fixture("openai_responses_text.sse");
    upstream.on_key(
        GOOD,
        [Reply::raw(200, "text/event-stream", recorded.clone())],
    );
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", keys.as_str()),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "[pool]\nsession_affinity = false\n",
    )
    .await;
    let response = post_bytes(&gateway, codex_request("gpt-5.1-codex"), None).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
    assert_eq!(response.bytes().await.unwrap(), recorded);
    assert_eq!(upstream.requests_with_key(GOOD)[0].path, "/responses");
}

#[tokio::test]
async fn an_exhausted_pool_answers_in_openai_error_shape_with_every_attempt() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [gemini_429()]);
    upstream.on_key(
        LIMITED_TOO,
        [Reply::fixture(
            429,
            "fixtures/errors/gemini_input_tokens_per_minute.json",
        )],
    );
    let keys = format!("{LIMITED},{LIMITED_TOO}");
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", keys.as_str()),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = post(&gateway, &simple_request("gemini@gemini-2.5-flash", true)).await;
    assert_eq!(response.status(), 429);
    assert!(!header(&response, "retry-after").is_empty());
    let error = openai_error(response).await;
    assert_eq!(error["type"], "rate_limit_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("keyrelay: gemini"),
        "{error}"
    );
    let listed = error["attempts"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["key"], fingerprint(LIMITED));

    // Now every key cools: the pool refuses without calling the provider.
    let response = post(&gateway, &simple_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!((response.status().as_u16(), attempts(&response)), (429, 0));
    let error = openai_error(response).await;
    assert!(
        error["message"].as_str().unwrap().contains("cooling"),
        "{error}"
    );
    assert_eq!(error["attempts"], json!([]));
}

#[tokio::test]
async fn a_fallback_chain_serves_a_responses_request_natively_on_the_next_provider() {
    let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
    gemini.on_key(LIMITED, [gemini_429()]);
    let recorded = fixture("openai_responses_text.sse");
    openai.on_key(
        GOOD,
        [Reply::raw(200, "text/event-stream", recorded.clone())],
    );
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", LIMITED),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
        ],
        "[fallbacks]\n\"gemini@*\" = [\"openai@gpt-5.1-codex-mini\"]\n",
    )
    .await;
    let response = post_bytes(
        &gateway,
        codex_request("gemini@gemini-2.5-pro"),
        Some("s-1"),
    )
    .await;
    assert_eq!(header(&response, "x-keyrelay-fallback"), "1");
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-model"), "gpt-5.1-codex-mini");
    assert_eq!(response.bytes().await.unwrap(), recorded);
    assert_eq!(
        gemini.total_hits(),
        1,
        "the translated request reached Gemini first"
    );
    let sent = &openai.requests()[0];
    assert_eq!(sent.path, "/responses");
    assert_eq!(
        sent.body.as_ref(),
        codex_request("gpt-5.1-codex-mini").as_bytes(),
        "the client's bytes, only the model changed"
    );
}

#[tokio::test]
async fn a_prompt_cache_key_names_the_session_when_no_header_does() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::raw(
        200,
        "application/json",
        r#"{"id":"resp_1","object":"response","output":[]}"#,
    )]);
    let keys = "test-key-session-0000000001,test-key-session-0000000002,test-key-session-0000000003,test-key-session-0000000004";
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", keys),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let mut used = std::collections::HashSet::new();
    for session in 0..12 {
        let mut first = None;
        for _ in 0..3 {
            let mut request = simple_request("openai@gpt-4.1", false);
            request["prompt_cache_key"] = json!(format!("cache-key-{session}"));
            let response = post(&gateway, &request).await;
            let key = header(&response, "x-keyrelay-key").to_owned();
            assert_eq!(
                first.get_or_insert_with(|| key.clone()),
                &key,
                "session {session}"
            );
        }
        used.insert(first.unwrap());
    }
    assert!(used.len() >= 2, "12 sessions used {used:?}");
}

#[tokio::test]
async fn keyrelays_own_errors_are_in_openai_shape() {
    let gateway = start(&[("OPENAI_API_KEYS", GOOD), ("GEMINI_API_KEYS", GOOD)], "").await;
    let response = post_bytes(&gateway, "{\"model\": ".to_owned(), None).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        openai_error(response).await["type"],
        "invalid_request_error"
    );

    let response = post(&gateway, &simple_request("nowhere@model-x", false)).await;
    assert_eq!(response.status(), 400);
    let error = openai_error(response).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown provider"),
        "{error}"
    );

    // A translated target refuses what it cannot carry, in the same shape.
    let mut request = simple_request("gemini@gemini-2.5-flash", false);
    request["input"] =
        json!([{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]);
    let response = post(&gateway, &request).await;
    assert_eq!(response.status(), 400);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("input_file"));

    let response = client()
        .get(format!("{}/v1/responses/resp_123", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("stores no responses"));

    let guarded = start(&[], "[server]\naccess_tokens = [\"team-token\"]\n").await;
    let response = post(&guarded, &simple_request("openai@gpt-4.1", false)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(openai_error(response).await["type"], "authentication_error");
}

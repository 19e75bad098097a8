//! The key pool under a Chat client: failover, exhaustion, fallback chains,
//! session affinity, and keyrelay's own errors in OpenAI's shape.

use testkit::{FakeUpstream, Reply};

use super::*;

fn gemini_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json")
}

#[tokio::test]
async fn a_rate_limited_key_fails_over_before_the_chat_client_sees_a_byte() {
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
        let response = post_chat(&gateway, &chat_request("claude-sonnet-4-5", stream)).await;
        assert_eq!(attempts(&response), 2);
        assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
        assert!(
            header(&response, "x-keyrelay-attempt-log").contains("=rate_limited/429"),
            "{:?}",
            response.headers()
        );
        let text = if stream {
            streamed(response).await.content
        } else {
            completion(response).await["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(text, "served by the second key");
    }
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
    let response = post_chat(&gateway, &chat_request("gemini@gemini-2.5-flash", true)).await;
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
    let attempts = error["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["key"], fingerprint(LIMITED));

    // Now every key cools: the pool refuses without calling the provider.
    let response = post_chat(&gateway, &chat_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!(
        (response.status().as_u16(), attempts_of(&response)),
        (429, 0)
    );
    let error = openai_error(response).await;
    assert!(
        error["message"].as_str().unwrap().contains("cooling"),
        "{error}"
    );
    assert_eq!(error["attempts"], json!([]));
}

fn attempts_of(response: &reqwest::Response) -> u32 {
    attempts(response)
}

#[tokio::test]
async fn a_fallback_chain_serves_a_chat_request_natively_on_the_next_provider() {
    let (gemini, openai) = (FakeUpstream::start().await, FakeUpstream::start().await);
    gemini.on_key(LIMITED, [gemini_429()]);
    openai.on_key(GOOD, [Reply::openai_chat("served by the fallback")]);
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", LIMITED),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai.base_url().as_str()),
        ],
        "[fallbacks]\n\"gemini@*\" = [\"openai@gpt-4.1-mini\"]\n",
    )
    .await;
    let response = post_chat(&gateway, &chat_request("gemini@gemini-2.5-flash", false)).await;
    assert_eq!(header(&response, "x-keyrelay-fallback"), "1");
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(header(&response, "x-keyrelay-model"), "gpt-4.1-mini");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "served by the fallback"
    );
    let sent = openai.requests()[0].json().unwrap();
    let mut expected = chat_request("gpt-4.1-mini", false);
    expected["model"] = json!("gpt-4.1-mini");
    assert_eq!(
        sent, expected,
        "the client's request, only the model changed"
    );
}

#[tokio::test]
async fn a_named_session_keeps_one_key_while_sessions_spread() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::openai_chat("hi")]);
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
            let response = client()
                .post(format!("{}/v1/chat/completions", gateway.url()))
                .header("x-keyrelay-session", format!("chat-session-{session}"))
                .json(&chat_request("openai@gpt-4.1", false))
                .send()
                .await
                .unwrap();
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
    let gateway = start(&[("OPENAI_API_KEYS", GOOD)], "").await;
    let response = post_chat_bytes(&gateway, "{\"model\": ".to_owned()).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        openai_error(response).await["type"],
        "invalid_request_error"
    );

    let response = post_chat(&gateway, &chat_request("nowhere@model-x", false)).await;
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
    let gateway = start(&[("GEMINI_API_KEYS", GOOD)], "").await;
    let mut request = chat_request("gemini@gemini-2.5-flash", false);
    request["n"] = json!(3);
    let response = post_chat(&gateway, &request).await;
    assert_eq!(response.status(), 400);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .starts_with("n:"));

    let guarded = start(&[], "[server]\naccess_tokens = [\"team-token\"]\n").await;
    let response = post_chat(&guarded, &chat_request("openai@gpt-4.1", false)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(openai_error(response).await["type"], "authentication_error");
}

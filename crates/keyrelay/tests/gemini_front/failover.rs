//! The key pool under a Gemini client: failover, exhaustion, fallback
//! chains, and keyrelay's own errors in Gemini's shape.

use testkit::{FakeUpstream, Reply};

use super::*;

fn gemini_429() -> Reply {
    Reply::fixture(429, "fixtures/errors/gemini_rate_limit.json")
}

#[tokio::test]
async fn a_rate_limited_key_fails_over_before_the_client_sees_a_byte() {
    for streaming in [false, true] {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(LIMITED, [gemini_429()]);
        let good = if streaming {
            Reply::gemini_stream("served by the second key")
        } else {
            Reply::gemini_generate("served by the second key")
        };
        upstream.on_key(GOOD, [good]);
        let keys = format!("{LIMITED},{GOOD}");
        let gateway = start(
            &[
                ("GEMINI_API_KEYS", keys.as_str()),
                ("GEMINI_BASE_URL", upstream.base_url().as_str()),
            ],
            "[pool]\nsession_affinity = false\n",
        )
        .await;
        let response = if streaming {
            stream(&gateway, "gemini-2.5-flash", &gemini_request()).await
        } else {
            generate(&gateway, "gemini-2.5-flash", &gemini_request()).await
        };
        assert_eq!(attempts(&response), 2);
        assert_eq!(header(&response, "x-keyrelay-key"), key_header(GOOD));
        assert!(header(&response, "x-keyrelay-attempt-log").contains("=rate_limited/429"));
        let text = if streaming {
            streamed(response).await.text
        } else {
            answer(response).await["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(text, "served by the second key");
    }
}

#[tokio::test]
async fn an_exhausted_pool_answers_in_gemini_error_shape_with_every_attempt() {
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
    let response = stream(&gateway, "gemini@gemini-2.5-flash", &gemini_request()).await;
    assert_eq!(response.status(), 429);
    assert!(!header(&response, "retry-after").is_empty());
    let error = gemini_error(response).await;
    assert_eq!(error["status"], "RESOURCE_EXHAUSTED");
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
    let response = generate(&gateway, "gemini@gemini-2.5-flash", &gemini_request()).await;
    assert_eq!(
        (response.status().as_u16(), super::attempts(&response)),
        (429, 0)
    );
    let error = gemini_error(response).await;
    assert!(
        error["message"].as_str().unwrap().contains("cooling"),
        "{error}"
    );
    assert_eq!(error["attempts"], json!([]));
}

#[tokio::test]
async fn a_fallback_chain_moves_a_gemini_request_to_anthropic_translated() {
    let (gemini, anthropic) = (FakeUpstream::start().await, FakeUpstream::start().await);
    gemini.on_key(LIMITED, [gemini_429()]);
    anthropic.on_key(GOOD, [Reply::anthropic_stream("served by the fallback")]);
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", LIMITED),
            ("GEMINI_BASE_URL", gemini.base_url().as_str()),
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", anthropic.base_url().as_str()),
        ],
        "[fallbacks]\n\"gemini@*\" = [\"anthropic@claude-sonnet-4-5\"]\n",
    )
    .await;
    let response = stream(&gateway, "gemini-2.5-flash", &gemini_request()).await;
    assert_eq!(header(&response, "x-keyrelay-fallback"), "1");
    assert_eq!(header(&response, "x-keyrelay-provider"), "anthropic");
    assert_eq!(header(&response, "x-keyrelay-model"), "claude-sonnet-4-5");
    assert_eq!(streamed(response).await.text, "served by the fallback");
    assert_eq!(
        anthropic.requests()[0].json().unwrap()["model"],
        "claude-sonnet-4-5"
    );
}

#[tokio::test]
async fn a_named_session_keeps_one_key() {
    let upstream = FakeUpstream::start().await;
    upstream.fallback([Reply::gemini_generate("hi")]);
    let keys =
        "test-key-session-0000000001,test-key-session-0000000002,test-key-session-0000000003";
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", keys),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let mut used = std::collections::HashSet::new();
    for session in 0..9 {
        let mut first = None;
        for _ in 0..3 {
            let response = client()
                .post(format!(
                    "{}/v1beta/models/gemini-2.5-flash:generateContent",
                    gateway.url()
                ))
                .header("x-keyrelay-session", format!("gemini-session-{session}"))
                .json(&gemini_request())
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
    assert!(used.len() >= 2, "9 sessions used {used:?}");
}

#[tokio::test]
async fn keyrelays_own_errors_are_in_gemini_shape() {
    let gateway = start(&[("ANTHROPIC_API_KEYS", GOOD)], "").await;
    let response = post_gemini(
        &gateway,
        "claude-sonnet-4-5",
        "generateContent",
        "",
        "{\"contents\": ".into(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(gemini_error(response).await["status"], "INVALID_ARGUMENT");

    let response = generate(&gateway, "nowhere@model-x", &gemini_request()).await;
    assert_eq!(response.status(), 400);
    let error = gemini_error(response).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown provider"),
        "{error}"
    );

    // What the provider cannot carry is refused by name.
    let mut request = gemini_request();
    request["tools"] = json!([{"googleSearch": {}}]);
    let response = generate(&gateway, "claude-sonnet-4-5", &request).await;
    assert_eq!(response.status(), 400);
    assert!(gemini_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("googleSearch"));

    let response = post_gemini(
        &gateway,
        "claude-sonnet-4-5",
        "embedContent",
        "",
        gemini_request().to_string(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(gemini_error(response).await["message"]
        .as_str()
        .unwrap()
        .starts_with("embedContent"));

    let response = client()
        .post(format!("{}/v1beta/models/claude-sonnet-4-5", gateway.url()))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(gemini_error(response).await["status"], "NOT_FOUND");
}

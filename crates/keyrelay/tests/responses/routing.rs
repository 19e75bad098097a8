//! A Responses request beyond one key pool: fallback chains to another
//! provider, and sessions (named by `prompt_cache_key` when no header
//! does) that keep one key while sessions spread.

use testkit::{FakeUpstream, Reply};

use super::*;

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

//! A Gemini request beyond one key pool: fallback chains to another
//! provider, translated, and named sessions that keep one key.

use testkit::{FakeUpstream, Reply};

use super::*;

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

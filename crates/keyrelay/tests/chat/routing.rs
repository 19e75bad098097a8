//! A Chat request beyond one key pool: fallback chains to another
//! provider, and named sessions that keep one key while sessions spread.

use testkit::{FakeUpstream, Reply};

use super::*;

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

//! When no key can serve: every key rate-limited is a 429 in the client's
//! shape, and a fallback chain takes an embeddings request to the next
//! target, translated as that target needs.

use super::*;

#[tokio::test]
async fn every_key_rate_limited_is_a_429_in_each_clients_shape() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(LIMITED, [gemini_429()]);
    upstream.on_key(LIMITED_TOO, [gemini_429()]);
    let keys = format!("{LIMITED},{LIMITED_TOO}");
    let base = upstream.base_url();
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", keys.as_str()),
            ("GEMINI_BASE_URL", base.as_str()),
        ],
        "[pool]\nsession_affinity = false\n",
    )
    .await;
    let model = "gemini@gemini-embedding-001";
    let response = embeddings(&gateway, &json!({"model": model, "input": "hello"})).await;
    assert_eq!(response.status(), 429);
    assert!(
        !header(&response, "retry-after").is_empty(),
        "{:?}",
        response.headers()
    );
    let error = openai_error(response).await;
    assert_eq!(error["type"], "rate_limit_error", "{error}");
    let body = json!({"content": {"parts": [{"text": "hello"}]}});
    let response = gemini_embed(&gateway, model, "embedContent", &body).await;
    assert_eq!(response.status(), 429);
    let error = gemini_error(response).await;
    assert_eq!(error["status"], "RESOURCE_EXHAUSTED", "{error}");
    assert_eq!(
        upstream.hits(LIMITED),
        1,
        "each key tried once, then left to cool"
    );
    assert_eq!(upstream.hits(LIMITED_TOO), 1);
}

#[tokio::test]
async fn an_exhausted_gemini_falls_back_to_openai_for_embeddings() {
    let gemini = FakeUpstream::start().await;
    gemini.on_key(LIMITED, [gemini_429()]);
    let openai = FakeUpstream::start().await;
    openai.on_key_with(GOOD, openai_embeddings);
    let (gemini_base, openai_base) = (gemini.base_url(), format!("{}/v1", openai.base_url()));
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", LIMITED),
            ("GEMINI_BASE_URL", gemini_base.as_str()),
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", openai_base.as_str()),
        ],
        "[fallbacks]\n\"gemini@gemini-embedding-*\" = [\"anthropic@claude-sonnet-4-5\", \"openai@text-embedding-3-small\"]\n",
    )
    .await;
    let body = json!({"requests": [
        {"model": "models/gemini@gemini-embedding-001", "content": {"parts": [{"text": "one"}]}},
        {"model": "models/gemini@gemini-embedding-001", "content": {"parts": [{"text": "two"}]}},
    ]});
    let response = gemini_embed(
        &gateway,
        "gemini@gemini-embedding-001",
        "batchEmbedContents",
        &body,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-keyrelay-provider"), "openai");
    assert_eq!(
        header(&response, "x-keyrelay-model"),
        "text-embedding-3-small"
    );
    assert!(
        !header(&response, "x-keyrelay-fallback").is_empty(),
        "{:?}",
        response.headers()
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"embeddings": [{"values": vector(0, "one", 8)}, {"values": vector(1, "two", 8)}]}),
        "Gemini's shape, from OpenAI's vectors (Anthropic, without embeddings, skipped)"
    );
    assert_eq!(openai.requests_with_key(GOOD)[0].path, "/v1/embeddings");
}

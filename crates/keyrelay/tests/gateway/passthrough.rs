//! Native passthrough: `/p/{provider}/{rest}` with a pooled key swapped in.

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

#[tokio::test]
async fn gemini_passthrough_fails_over_from_an_invalid_key() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_invalid_key.json",
        )],
    );
    upstream.on_key(
        GOOD,
        [Reply::json(
            200,
            json!({"candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}}]}),
        )],
    );
    let keys = format!("{INVALID},{GOOD}");
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", keys.as_str()),
            ("GEMINI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let url = format!(
        "{}/p/gemini/v1beta/models/gemini-2.5-flash:generateContent?key=client-own&alt=json",
        gateway.url()
    );
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hello"}]}]});
    let response = client()
        .post(&url)
        .header("x-goog-api-key", "client-own")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
    assert_eq!(header(&response, "x-keyrelay-provider"), "gemini");
    let sent = upstream.requests();
    assert_eq!(sent.len(), 2);
    let last = &sent[1];
    assert_eq!(last.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(
        last.query.as_deref(),
        Some("alt=json"),
        "the client's ?key= is dropped"
    );
    assert_eq!(last.header("x-goog-api-key"), Some(GOOD));
    assert_eq!(last.json().unwrap(), body);
    // The invalid key is disabled: the next request goes straight to the good one.
    let again = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(attempts(&again), 1);
    assert_eq!(upstream.hits(INVALID), 1);
}

#[tokio::test]
async fn openai_passthrough_uses_bearer_and_keeps_openai_error_shapes() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/openai_invalid_key.json",
        )],
    );
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", INVALID),
            ("OPENAI_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let url = format!("{}/p/openai/chat/completions", gateway.url());
    let response = client()
        .post(&url)
        .bearer_auth("client-own")
        .json(&json!({"model": "gpt-4.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body = response.text().await.unwrap();
    assert!(
        !body.contains(INVALID) && !body.contains("test-key-inv"),
        "key material redacted: {body}"
    );
    assert_eq!(
        upstream.requests()[0].header("authorization"),
        Some(format!("Bearer {INVALID}").as_str())
    );
    let again = client()
        .post(&url)
        .json(&json!({"model": "gpt-4.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 503);
    let body: serde_json::Value = again.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "OpenAI shape: {body}"
    );
}

#[tokio::test]
async fn passthrough_to_an_unknown_provider_or_a_missing_base_url() {
    let gateway = start(&[("LITELLM_API_KEYS", GOOD)], "").await;
    let response = client()
        .get(format!("{}/p/nosuch/v1/models", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(anthropic_error(response).await.1.contains("openrouter"));
    let response = client()
        .get(format!("{}/p/litellm/models", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("LITELLM_BASE_URL"),
        "{body}"
    );
}

#[tokio::test]
async fn get_requests_and_paths_pass_through_exactly() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::json(200, json!({"object": "list", "data": []}))],
    );
    let gateway = start(
        &[
            ("OPENROUTER_API_KEY", GOOD),
            ("OPENROUTER_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let response = client()
        .get(format!(
            "{}/p/openrouter/models/some%2Fencoded?supported_parameters=tools",
            gateway.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let sent = &upstream.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("GET", "/models/some%2Fencoded")
    );
    assert_eq!(sent.query.as_deref(), Some("supported_parameters=tools"));
}

#[tokio::test]
async fn an_error_object_inside_a_200_body_still_fails_over() {
    let upstream = FakeUpstream::start().await;
    let error_in_200 = Reply::fixture(200, "fixtures/errors/openrouter_rate_limit.json");
    upstream.on_key(LIMITED, [error_in_200]);
    upstream.on_key(GOOD, [Reply::openai_chat("fine")]);
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = start(
        &[
            ("OPENROUTER_API_KEYS", keys.as_str()),
            ("OPENROUTER_BASE_URL", upstream.base_url().as_str()),
        ],
        "",
    )
    .await;
    let url = format!("{}/p/openrouter/chat/completions", gateway.url());
    let response = client()
        .post(&url)
        .json(&json!({"model": "x/y", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!((response.status().as_u16(), attempts(&response)), (200, 2));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "fine");
    let again = client()
        .post(&url)
        .json(&json!({"model": "x/y", "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(attempts(&again), 1, "the limited key is cooling");
}

//! `/v1/embeddings`: natively to OpenAI, translated to Gemini's
//! `batchEmbedContents` and Ollama's `/api/embed`, each with the first key
//! rate-limited; base64 vectors, dimensions, and bad input.

use super::*;

#[tokio::test]
async fn openai_gets_the_clients_request_and_its_answer_comes_back_after_a_rate_limited_key() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, OPENAI, "").await;
    let request = json!({
        "model": "openai@text-embedding-3-small",
        "input": ["the cat", "sat on", "the mat"],
        "dimensions": 5,
        "user": "user-7",
    });
    let response = embeddings(&gateway, &request).await;
    served_by_the_second_key(&response, "openai", "text-embedding-3-small");
    assert_eq!(
        header(&response, "x-keyrelay-token-count"),
        "",
        "OpenAI counts"
    );
    let body: Value = response.json().await.unwrap();
    let vectors = openai_vectors(&body);
    assert_eq!(vectors.len(), 3);
    assert!(vectors.iter().all(|v| v.len() == 5), "{body}");
    assert_eq!(vectors[1], vector(1, "sat on", 5));
    assert_eq!(
        body["usage"]["prompt_tokens"], 9,
        "the provider's own answer"
    );
    assert_eq!(
        body["model"], "text-embedding-3-small",
        "as OpenAI wrote it"
    );
    let sent = upstream.requests_with_key(GOOD);
    assert_eq!(sent[0].path, "/v1/embeddings");
    let mut expected = request.clone();
    expected["model"] = json!("text-embedding-3-small");
    assert_eq!(sent[0].json().unwrap(), expected, "only the model changed");
    assert_eq!(upstream.hits(LIMITED), 1);
}

#[tokio::test]
async fn gemini_gets_batch_embed_contents_and_the_client_gets_openais_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, GEMINI, "").await;
    let response = embeddings(
        &gateway,
        &json!({"model": "gemini@gemini-embedding-001", "input": ["alpha", "beta", "gamma"], "dimensions": 4}),
    )
    .await;
    served_by_the_second_key(&response, "gemini", "gemini-embedding-001");
    assert_eq!(header(&response, "x-keyrelay-token-count"), "estimate");
    let body: Value = response.json().await.unwrap();
    let vectors = openai_vectors(&body);
    assert_eq!(
        vectors,
        vec![
            vector(0, "alpha", 4),
            vector(1, "beta", 4),
            vector(2, "gamma", 4)
        ]
    );
    assert_eq!(
        body["model"], "gemini@gemini-embedding-001",
        "the client's model"
    );
    // Gemini counts no tokens: about four characters a token, one at least.
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 5, "total_tokens": 5})
    );
    let sent = upstream.requests_with_key(GOOD);
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(sent[0].header("x-goog-api-key"), Some(GOOD));
    let requests = sent[0].json().unwrap()["requests"].clone();
    assert_eq!(requests.as_array().unwrap().len(), 3);
    assert_eq!(
        requests[2],
        json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "gamma"}]}, "outputDimensionality": 4})
    );
}

#[tokio::test]
async fn ollama_gets_api_embed_and_the_client_gets_openais_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, OLLAMA, "").await;
    let response = embeddings(
        &gateway,
        &json!({"model": "ollama-cloud@embeddinggemma", "input": "why is the sky blue?", "dimensions": 6}),
    )
    .await;
    served_by_the_second_key(&response, "ollama-cloud", "embeddinggemma");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        openai_vectors(&body),
        vec![vector(0, "why is the sky blue?", 6)]
    );
    assert_eq!(
        body["usage"]["prompt_tokens"], 4,
        "Ollama's prompt_eval_count"
    );
    let sent = upstream.requests_with_key(GOOD);
    assert_eq!(sent[0].path, "/api/embed");
    assert_eq!(
        sent[0].json().unwrap(),
        json!({"model": "embeddinggemma", "input": ["why is the sky blue?"], "dimensions": 6})
    );
}

#[tokio::test]
async fn base64_vectors_are_the_providers_floats_as_little_endian_bytes() {
    for provider in [GEMINI, OLLAMA, OPENAI] {
        let upstream = FakeUpstream::start().await;
        let gateway = limited_first(&upstream, provider, "").await;
        let model = match provider.keys {
            "GEMINI_API_KEYS" => "gemini@gemini-embedding-001",
            "OLLAMA_API_KEYS" => "ollama-cloud@embeddinggemma",
            _ => "openai@text-embedding-3-large",
        };
        let response = embeddings(
            &gateway,
            &json!({"model": model, "input": ["one", "three"], "encoding_format": "base64"}),
        )
        .await;
        assert_eq!(response.status(), 200, "{model}");
        let body: Value = response.json().await.unwrap();
        assert!(body["data"][0]["embedding"].is_string(), "{model}: {body}");
        assert_eq!(
            openai_vectors(&body),
            vec![vector(0, "one", 8), vector(1, "three", 8)],
            "{model}"
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_in_openais_shape_before_any_provider_is_asked() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, GEMINI, "").await;
    let model = "gemini@gemini-embedding-001";
    let cases = [
        (json!({"model": model}), "input: field required"),
        (
            json!({"model": model, "input": []}),
            "input: must not be an empty list",
        ),
        (
            json!({"model": model, "input": [""]}),
            "input[0]: must not be empty",
        ),
        (
            json!({"model": model, "input": 42}),
            "input: must be a string",
        ),
        (
            json!({"model": model, "input": ["a", {"text": "b"}]}),
            "input: must be a string",
        ),
        (
            json!({"model": model, "input": "a", "dimensions": -3}),
            "dimensions: must be a positive integer",
        ),
        (
            json!({"model": model, "input": "a", "encoding_format": "binary"}),
            "encoding_format: must be",
        ),
        (json!({"input": "a"}), "model: field required"),
        (
            json!({"model": model, "input": [[1, 2, 3]]}),
            "token arrays can be embedded only by an OpenAI-compatible provider",
        ),
    ];
    for (body, expected) in cases {
        let response = embeddings(&gateway, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = openai_error(response).await;
        assert_eq!(error["type"], "invalid_request_error", "{body}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let not_json = client()
        .post(format!("{}/v1/embeddings", gateway.url()))
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    openai_error(not_json).await;
    assert_eq!(upstream.total_hits(), 0);
}

#[tokio::test]
async fn a_provider_without_embeddings_is_refused_naming_why() {
    let upstream = FakeUpstream::start().await;
    let base = upstream.base_url();
    let gateway = start(
        &[
            ("ANTHROPIC_API_KEYS", GOOD),
            ("ANTHROPIC_UPSTREAM_BASE_URL", base.as_str()),
        ],
        "",
    )
    .await;
    let response = embeddings(
        &gateway,
        &json!({"model": "anthropic@claude-sonnet-4-5", "input": "hello"}),
    )
    .await;
    assert_eq!(response.status(), 400);
    let error = openai_error(response).await;
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("anthropic"), "{message}");
    assert!(message.contains("no embeddings endpoint"), "{message}");
    assert_eq!(upstream.total_hits(), 0);
}

#[tokio::test]
async fn an_upstream_client_error_comes_back_in_openais_shape_unrotated() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        GOOD,
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_validation_error.json",
        )],
    );
    let base = upstream.base_url();
    let gateway = start(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", base.as_str()),
        ],
        "",
    )
    .await;
    let response = embeddings(
        &gateway,
        &json!({"model": "gemini@gemini-embedding-001", "input": "hello"}),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(attempts(&response), 1);
    let error = openai_error(response).await;
    assert_eq!(error["type"], "invalid_request_error", "{error}");
}

#[tokio::test]
async fn an_alias_and_a_prefix_route_embeddings_as_any_model() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key_with(GOOD, gemini_embeddings);
    let base = upstream.base_url();
    let gateway = start_with(
        &[
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", base.as_str()),
        ],
        "",
        vec![("vectors".to_owned(), "g/gemini-embedding-001".to_owned())],
    )
    .await;
    for model in [
        "vectors",
        "g/gemini-embedding-001",
        "google@gemini-embedding-001",
    ] {
        let response = embeddings(&gateway, &json!({"model": model, "input": "hi"})).await;
        assert_eq!(response.status(), 200, "{model}");
        assert_eq!(
            header(&response, "x-keyrelay-provider"),
            "gemini",
            "{model}"
        );
        assert_eq!(
            header(&response, "x-keyrelay-model"),
            "gemini-embedding-001",
            "{model}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["model"], model, "the client's own name");
    }
}

//! Gemini's `:embedContent` and `:batchEmbedContents`: natively to Gemini
//! (the client's bytes, a batch's models routed) and translated to OpenAI
//! and Ollama, each with the first key rate-limited; bad input in Google's
//! shape.

use super::*;

fn batch(model: &str, texts: &[&str], dimensions: u32) -> Value {
    let requests: Vec<Value> = texts
        .iter()
        .map(|text| {
            json!({
                "model": format!("models/{model}"),
                "content": {"parts": [{"text": text}]},
                "taskType": "RETRIEVAL_DOCUMENT",
                "outputDimensionality": dimensions,
            })
        })
        .collect();
    json!({ "requests": requests })
}

fn values(embedding: &Value) -> Vec<f32> {
    embedding["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

#[tokio::test]
async fn embed_content_goes_to_gemini_as_the_client_sent_it() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, GEMINI, "").await;
    let request = json!({
        "content": {"parts": [{"text": "What is the meaning of life?"}]},
        "taskType": "RETRIEVAL_QUERY",
        "outputDimensionality": 7,
    });
    let response = gemini_embed(
        &gateway,
        "gemini@gemini-embedding-001",
        "embedContent",
        &request,
    )
    .await;
    served_by_the_second_key(&response, "gemini", "gemini-embedding-001");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        values(&body["embedding"]),
        vector(0, "What is the meaning of life?", 7)
    );
    let sent = upstream.requests_with_key(GOOD);
    assert_eq!(
        sent[0].path,
        "/v1beta/models/gemini-embedding-001:embedContent"
    );
    assert_eq!(sent[0].json().unwrap(), request, "the client's body");
    assert_eq!(upstream.hits(LIMITED), 1);
}

#[tokio::test]
async fn a_native_batch_names_the_routed_model_in_each_request() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, GEMINI, "").await;
    let model = "gemini@gemini-embedding-001";
    let response = gemini_embed(
        &gateway,
        model,
        "batchEmbedContents",
        &batch(model, &["a", "bb"], 3),
    )
    .await;
    served_by_the_second_key(&response, "gemini", "gemini-embedding-001");
    let body: Value = response.json().await.unwrap();
    let embeddings = body["embeddings"].as_array().unwrap();
    assert_eq!(embeddings.len(), 2);
    assert_eq!(values(&embeddings[1]), vector(1, "bb", 3));
    let sent = upstream.requests_with_key(GOOD)[0].json().unwrap();
    assert_eq!(sent, batch("gemini-embedding-001", &["a", "bb"], 3));
}

#[tokio::test]
async fn a_batch_translated_to_openai_comes_back_in_geminis_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, OPENAI, "").await;
    let model = "openai@text-embedding-3-small";
    let response = gemini_embed(
        &gateway,
        model,
        "batchEmbedContents",
        &batch(model, &["x", "yy", "zzz"], 12),
    )
    .await;
    served_by_the_second_key(&response, "openai", "text-embedding-3-small");
    let body: Value = response.json().await.unwrap();
    let embeddings = body["embeddings"].as_array().unwrap();
    assert_eq!(embeddings.len(), 3, "{body}");
    for (n, text) in ["x", "yy", "zzz"].iter().enumerate() {
        assert_eq!(values(&embeddings[n]), vector(n, text, 12));
    }
    let sent = upstream.requests_with_key(GOOD);
    assert_eq!(sent[0].path, "/v1/embeddings");
    assert_eq!(
        sent[0].json().unwrap(),
        json!({"model": "text-embedding-3-small", "input": ["x", "yy", "zzz"], "dimensions": 12, "encoding_format": "float"})
    );
}

#[tokio::test]
async fn embed_content_translated_to_ollama_comes_back_as_one_embedding() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, OLLAMA, "").await;
    let request = json!({"content": {"parts": [{"text": "hello"}]}});
    let response = gemini_embed(
        &gateway,
        "ollama-cloud@embeddinggemma",
        "embedContent",
        &request,
    )
    .await;
    served_by_the_second_key(&response, "ollama-cloud", "embeddinggemma");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"embedding": {"values": vector(0, "hello", 8)}})
    );
}

#[tokio::test]
async fn bad_input_is_refused_in_googles_shape() {
    let upstream = FakeUpstream::start().await;
    let gateway = limited_first(&upstream, OPENAI, "").await;
    let model = "openai@text-embedding-3-small";
    let cases = [
        ("embedContent", json!({}), "content: field required"),
        (
            "embedContent",
            json!({"content": {"parts": []}}),
            "content.parts: must be a non-empty list",
        ),
        (
            "embedContent",
            json!({"content": {"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}}),
            "text parts only",
        ),
        (
            "batchEmbedContents",
            json!({"requests": []}),
            "requests: must not be an empty list",
        ),
        (
            "batchEmbedContents",
            json!({"requests": {"content": "x"}}),
            "requests: must be a list",
        ),
        (
            "batchEmbedContents",
            json!({"requests": [{"content": {"parts": [{"text": "a"}]}, "outputDimensionality": "big"}]}),
            "requests[0].outputDimensionality: must be a positive integer",
        ),
    ];
    for (method, body, expected) in cases {
        let response = gemini_embed(&gateway, model, method, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error = gemini_error(response).await;
        assert_eq!(error["status"], "INVALID_ARGUMENT", "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(expected), "{body}: {message}");
    }
    assert_eq!(upstream.total_hits(), 0);
}

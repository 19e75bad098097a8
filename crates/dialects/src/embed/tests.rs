#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

use super::*;

fn rendered(request: &EmbedRequest, embeddings: &Embeddings, model: &str) -> Value {
    serde_json::from_slice(&request.render(embeddings, model)).unwrap()
}

fn openai(body: Value) -> Result<EmbedRequest, TranslateError> {
    openai::parse_request(body.to_string().as_bytes())
}

#[test]
fn openai_input_is_a_string_a_list_of_strings_or_token_lists() {
    let one = openai(json!({"model": "m", "input": "hello"})).unwrap();
    assert_eq!(one.inputs, Inputs::Texts(vec!["hello".into()]));
    assert_eq!(one.answer, AnswerShape::Openai { base64: false });
    let many = openai(
        json!({"model": "m", "input": ["a", "b"], "dimensions": 256, "encoding_format": "base64"}),
    )
    .unwrap();
    assert_eq!(many.inputs, Inputs::Texts(vec!["a".into(), "b".into()]));
    assert_eq!(many.dimensions, Some(256));
    assert_eq!(many.answer, AnswerShape::Openai { base64: true });
    let tokens = openai(json!({"model": "m", "input": [1, 2, 3]})).unwrap();
    assert_eq!(tokens.inputs, Inputs::Tokens(vec![vec![1, 2, 3]]));
    let token_lists = openai(json!({"model": "m", "input": [[1], [2, 3]]})).unwrap();
    assert_eq!(token_lists.inputs.len(), 2);
}

#[test]
fn openai_bad_input_is_refused_by_field() {
    let cases = [
        (json!({"model": "m"}), "input: field required"),
        (
            json!({"model": "m", "input": []}),
            "input: must not be an empty list",
        ),
        (
            json!({"model": "m", "input": ""}),
            "input: must not be empty",
        ),
        (
            json!({"model": "m", "input": ["a", ""]}),
            "input[1]: must not be empty",
        ),
        (
            json!({"model": "m", "input": ["a", 1]}),
            "input: must be a string",
        ),
        (
            json!({"model": "m", "input": {"text": "a"}}),
            "input: must be a string",
        ),
        (
            json!({"model": "m", "input": [[]]}),
            "input[0]: must not be empty",
        ),
        (
            json!({"model": "m", "input": "a", "dimensions": 0}),
            "dimensions: must be a positive integer",
        ),
        (
            json!({"model": "m", "input": "a", "dimensions": "8"}),
            "dimensions: must be a positive integer",
        ),
        (
            json!({"model": "m", "input": "a", "encoding_format": "int8"}),
            "encoding_format: must be",
        ),
    ];
    for (body, expected) in cases {
        let error = openai(body.clone()).unwrap_err();
        assert!(error.0.starts_with(expected), "{body}: {}", error.0);
    }
}

#[test]
fn base64_vectors_are_little_endian_f32_both_ways() {
    let vector = vec![0.5f32, -1.25, 3.0e-7, 0.0];
    let text = openai::encode(&vector);
    // 0.5f32 is 0x3f000000: little-endian 00 00 00 3f.
    assert!(text.starts_with("AAAAPw"), "{text}");
    assert_eq!(openai::decode(&text).unwrap(), vector);
    assert!(
        openai::decode("AAA=").is_err(),
        "three bytes are not a float"
    );
}

#[test]
fn an_openai_answer_is_read_in_index_order_floats_or_base64() {
    let body = json!({
        "object": "list",
        "data": [
            {"object": "embedding", "index": 1, "embedding": openai::encode(&[2.0, 3.0])},
            {"object": "embedding", "index": 0, "embedding": [0.5, 1.5]},
        ],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 7, "total_tokens": 7},
    });
    let read = provider_answer(Dialect::OpenaiChat, body.to_string().as_bytes(), 2).unwrap();
    assert_eq!(read.vectors, vec![vec![0.5, 1.5], vec![2.0, 3.0]]);
    assert_eq!(read.input_tokens, Some(7));
    let short = provider_answer(Dialect::OpenaiChat, body.to_string().as_bytes(), 3);
    assert!(short.unwrap_err().0.contains("2 vectors for 3 inputs"));
}

#[test]
fn gemini_requests_one_and_batch_are_read() {
    let one = json!({"content": {"parts": [{"text": "hello"}, {"text": "world"}]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8});
    let read = gemini::parse_request(one.to_string().as_bytes(), false).unwrap();
    assert_eq!(read.inputs, Inputs::Texts(vec!["hello\nworld".into()]));
    assert_eq!(read.dimensions, Some(8));
    assert_eq!(read.task_type.as_deref(), Some("RETRIEVAL_QUERY"));
    assert_eq!(read.answer, AnswerShape::GeminiOne);
    let batch = json!({"requests": [
        {"model": "models/x", "content": {"parts": [{"text": "a"}]}, "output_dimensionality": 4},
        {"model": "models/x", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 4},
    ]});
    let read = gemini::parse_request(batch.to_string().as_bytes(), true).unwrap();
    assert_eq!(read.inputs.len(), 2);
    assert_eq!(read.dimensions, Some(4));
    assert_eq!(read.answer, AnswerShape::GeminiBatch);
}

#[test]
fn gemini_bad_requests_are_refused_by_field() {
    let cases = [
        (json!({}), false, "content: field required"),
        (
            json!({"content": {"parts": []}}),
            false,
            "content.parts: must be a non-empty list",
        ),
        (
            json!({"content": {"parts": [{"inlineData": {}}]}}),
            false,
            "content.parts: keyrelay embeds text parts only",
        ),
        (
            json!({"requests": []}),
            true,
            "requests: must not be an empty list",
        ),
        (json!({"requests": "a"}), true, "requests: must be a list"),
        (json!({}), true, "requests: field required"),
        (
            json!({"requests": [{"content": {"parts": [{"text": "a"}]}, "outputDimensionality": -1}]}),
            true,
            "requests[0].outputDimensionality",
        ),
        (
            json!({"requests": [
            {"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 4},
            {"content": {"parts": [{"text": "b"}]}, "outputDimensionality": 8}]}),
            true,
            "requests[1]: keyrelay takes one",
        ),
    ];
    for (body, batch, expected) in cases {
        let error = gemini::parse_request(body.to_string().as_bytes(), batch).unwrap_err();
        assert!(error.0.starts_with(expected), "{body}: {}", error.0);
    }
}

#[test]
fn each_provider_gets_its_own_request() {
    let request = openai(json!({"model": "m", "input": ["a", "b"], "dimensions": 3})).unwrap();
    let to_openai =
        provider_request(Dialect::OpenaiChat, &request, "text-embedding-3-small").unwrap();
    assert_eq!(to_openai.path, "/embeddings");
    assert_eq!(
        to_openai.body,
        json!({"model": "text-embedding-3-small", "input": ["a", "b"], "dimensions": 3, "encoding_format": "float"})
    );
    let to_gemini = provider_request(Dialect::Gemini, &request, "gemini-embedding-001").unwrap();
    assert_eq!(
        to_gemini.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(
        to_gemini.body["requests"][1],
        json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}, "outputDimensionality": 3})
    );
    let to_ollama = provider_request(Dialect::Ollama, &request, "nomic-embed-text").unwrap();
    assert_eq!(to_ollama.path, "/api/embed");
    assert_eq!(
        to_ollama.body,
        json!({"model": "nomic-embed-text", "input": ["a", "b"], "dimensions": 3})
    );
    let anthropic = provider_request(Dialect::Anthropic, &request, "claude").unwrap_err();
    assert!(
        anthropic.0.contains("no embeddings endpoint"),
        "{}",
        anthropic.0
    );
    let tokens = openai(json!({"model": "m", "input": [[1, 2]]})).unwrap();
    let error = provider_request(Dialect::Gemini, &tokens, "g").unwrap_err();
    assert!(error.0.contains("token arrays"), "{}", error.0);
}

#[test]
fn answers_are_written_in_the_clients_shape() {
    let embeddings = Embeddings {
        vectors: vec![vec![0.5, 1.0], vec![2.0, 4.0]],
        input_tokens: None,
    };
    let request = openai(json!({"model": "m", "input": ["abcdefgh", "ab"]})).unwrap();
    let written = rendered(&request, &embeddings, "gemini@gemini-embedding-001");
    assert_eq!(written["object"], "list");
    assert_eq!(
        written["data"][1],
        json!({"object": "embedding", "index": 1, "embedding": [2.0, 4.0]})
    );
    assert_eq!(written["model"], "gemini@gemini-embedding-001");
    // No count from the provider: about four characters a token, at least one an input.
    assert_eq!(
        written["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    assert_eq!(request.input_tokens(&embeddings), (3, true));
    let base64 =
        openai(json!({"model": "m", "input": ["a", "b"], "encoding_format": "base64"})).unwrap();
    let written = rendered(&base64, &embeddings, "m");
    let text = written["data"][0]["embedding"].as_str().unwrap();
    assert_eq!(openai::decode(text).unwrap(), vec![0.5, 1.0]);
    let batch = gemini::parse_request(
        json!({"requests": [{"content": {"parts": [{"text": "a"}]}}, {"content": {"parts": [{"text": "b"}]}}]}).to_string().as_bytes(),
        true,
    )
    .unwrap();
    assert_eq!(
        rendered(&batch, &embeddings, "m"),
        json!({"embeddings": [{"values": [0.5, 1.0]}, {"values": [2.0, 4.0]}]})
    );
    let one = gemini::parse_request(
        json!({"content": {"parts": [{"text": "a"}]}})
            .to_string()
            .as_bytes(),
        false,
    )
    .unwrap();
    let single = Embeddings {
        vectors: vec![vec![1.5]],
        input_tokens: Some(2),
    };
    assert_eq!(
        rendered(&one, &single, "m"),
        json!({"embedding": {"values": [1.5]}})
    );
}

#[test]
fn gemini_and_ollama_answers_are_read() {
    let batch = json!({"embeddings": [{"values": [0.1, 0.2]}, {"values": [0.3, 0.4]}]});
    let read = provider_answer(Dialect::Gemini, batch.to_string().as_bytes(), 2).unwrap();
    assert_eq!(read.vectors.len(), 2);
    assert_eq!(read.input_tokens, None);
    let one = json!({"embedding": {"values": [0.1]}});
    assert_eq!(
        provider_answer(Dialect::Gemini, one.to_string().as_bytes(), 1)
            .unwrap()
            .vectors,
        vec![vec![0.1f32]]
    );
    let ollama = json!({"model": "nomic-embed-text", "embeddings": [[0.1, 0.2, 0.3]], "total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8});
    let read = provider_answer(Dialect::Ollama, ollama.to_string().as_bytes(), 1).unwrap();
    assert_eq!(read.input_tokens, Some(8));
    assert_eq!(
        reported_tokens(Dialect::Ollama, ollama.to_string().as_bytes()),
        Some(8)
    );
    assert!(provider_answer(Dialect::Gemini, b"{}", 1).is_err());
}

#[test]
fn a_native_batch_names_the_routed_model_in_each_request() {
    let body = json!({"requests": [{"model": "models/gemini@gemini-embedding-001", "content": {"parts": [{"text": "a"}]}, "title": "kept"}]});
    let routed = gemini::routed_batch(body.to_string().as_bytes(), "gemini-embedding-001").unwrap();
    let routed: Value = serde_json::from_slice(&routed).unwrap();
    assert_eq!(
        routed["requests"][0]["model"],
        "models/gemini-embedding-001"
    );
    assert_eq!(routed["requests"][0]["title"], "kept");
}

#[test]
fn floats_are_written_as_the_provider_wrote_them() {
    let answer = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[-0.006929283,0.1,1e-7]}],"usage":{"prompt_tokens":1}}"#;
    let read = provider_answer(Dialect::OpenaiChat, answer, 1).unwrap();
    let request = gemini::parse_request(br#"{"content":{"parts":[{"text":"a"}]}}"#, false).unwrap();
    let written = String::from_utf8(request.render(&read, "m")).unwrap();
    assert_eq!(
        written,
        r#"{"embedding":{"values":[-0.006929283,0.1,1e-7]}}"#
    );
}

use super::gemini::wants_sse;
use super::*;

fn parsed(path: &str) -> Option<(&'static str, String, Option<String>)> {
    ModelPath::parse(path).map(|p| (p.version, p.model, p.method))
}

#[test]
fn a_path_names_the_model_plain_or_percent_encoded_and_the_method() {
    assert_eq!(
        parsed("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
        Some((
            "v1beta",
            "gemini-2.5-flash".into(),
            Some("streamGenerateContent".into())
        ))
    );
    assert_eq!(
        parsed("/v1beta/models/openai%40gpt-4.1:generateContent")
            .unwrap()
            .1,
        "openai@gpt-4.1"
    );
    assert_eq!(
        parsed("/v1/models/or/google/gemini-2.5-pro:countTokens"),
        Some((
            "v1",
            "or/google/gemini-2.5-pro".into(),
            Some("countTokens".into())
        ))
    );
    assert_eq!(
        parsed("/v1beta/models/ollama@llama3:8b:generateContent")
            .unwrap()
            .1,
        "ollama@llama3:8b"
    );
    assert_eq!(
        parsed("/v1beta/models/gemini-2.5-flash"),
        Some(("v1beta", "gemini-2.5-flash".into(), None))
    );
    assert_eq!(parsed("/v1beta/models/:generateContent"), None);
    assert_eq!(parsed("/v1beta/models/bad%zz:generateContent"), None);
    assert_eq!(parsed("/v1beta/tunedModels/x:generateContent"), None);
}

#[test]
fn the_key_parameter_and_alt_sse_are_read_from_the_query() {
    assert_eq!(
        key_param("alt=sse&key=team%2Btoken").as_deref(),
        Some("team+token")
    );
    assert_eq!(key_param("alt=sse&monkey=x"), None);
    assert_eq!(key_param("key="), None);
    assert!(wants_sse(Some("key=k&alt=sse")));
    assert!(!wants_sse(Some("alt=json")));
    assert!(!wants_sse(None));
}

fn messages_session(user_id: &str) -> Option<String> {
    let body = serde_json::json!({"model": "m", "metadata": {"user_id": user_id}}).to_string();
    let request = ClientRequest {
        path: "/v1/messages",
        query: None,
        body: body.as_bytes(),
    };
    MESSAGES.head(&request).unwrap().session
}

#[test]
fn a_messages_body_names_its_session_in_metadata_user_id() {
    let legacy = "user_2f1a_account_7c1d_session_57a121ec-f78c-48c3-a745-e3036a3ecc33";
    assert_eq!(
        messages_session(legacy).as_deref(),
        Some("57a121ec-f78c-48c3-a745-e3036a3ecc33")
    );
    let json = r#"{"device_id":"d1","account_uuid":"","session_id":"54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe"}"#;
    assert_eq!(
        messages_session(json).as_deref(),
        Some("54c1eb09-bc4c-4d2f-98eb-6d2ab2d5e2fe")
    );
    assert_eq!(messages_session("plain-user"), None);
    let long = "x".repeat(MAX_SESSION_LEN + 1);
    assert_eq!(messages_session(&format!("u_session_{long}")), None);
}

#[test]
fn each_client_api_is_served_natively_by_its_own_dialects_only() {
    use crate::Dialect::*;
    let dialects = [Anthropic, OpenaiChat, Openrouter, Gemini, Ollama];
    let native = |api: &dyn ClientApi, responses: bool| -> Vec<Dialect> {
        dialects
            .into_iter()
            .filter(|d| api.native_for(*d, responses))
            .collect()
    };
    assert_eq!(native(&MESSAGES, true), [Anthropic]);
    assert_eq!(native(&CHAT, true), [OpenaiChat, Openrouter]);
    assert_eq!(native(&GEMINI, true), [Gemini]);
    // The Responses API is a provider's own feature, whatever its dialect.
    assert_eq!(native(&RESPONSES, false), []);
    assert_eq!(native(&RESPONSES, true), dialects);
}

#[test]
fn a_head_reads_model_stream_and_operation_from_body_or_path() {
    let body = br#"{"stream": true, "messages": [], "model": "openai@gpt-4.1"}"#;
    let at = |path: &'static str, body: &'static [u8]| ClientRequest {
        path,
        query: None,
        body,
    };
    let head = CHAT.head(&at("/v1/chat/completions", body)).unwrap();
    assert_eq!(
        (head.model.as_str(), head.stream, head.operation),
        ("openai@gpt-4.1", true, Operation::Generate)
    );
    let count = MESSAGES
        .head(&at("/v1/messages/count_tokens", br#"{"model":"m"}"#))
        .unwrap();
    assert_eq!(count.operation, Operation::CountTokens);
    let gemini = GEMINI
        .head(&at(
            "/v1beta/models/g%2Fgemini-2.5-pro:streamGenerateContent",
            b"{}",
        ))
        .unwrap();
    assert_eq!(
        (gemini.model.as_str(), gemini.stream),
        ("g/gemini-2.5-pro", true)
    );
    assert_eq!(
        RESPONSES.head(&at("/v1/responses", b"[1]")),
        Err(ClientError::Invalid(
            "request body is not a valid JSON object".into()
        ))
    );
    assert_eq!(
        MESSAGES.head(&at("/v1/messages", br#"{"model": 7}"#)),
        Err(ClientError::Invalid("model: must be a string".into()))
    );
    assert!(matches!(
        GEMINI.head(&at("/v1beta/models/gemini-2.5-pro", b"{}")),
        Err(ClientError::NoRoute(_))
    ));
}

#[test]
fn a_native_body_gets_its_prefill_as_a_last_assistant_turn_in_its_own_shape() {
    use serde_json::Value;
    let prefilled = |api: &dyn ClientApi, body: Value| -> Value {
        let body = serde_json::to_vec(&body).unwrap();
        serde_json::from_slice(
            &api.native_prefill(&body, "Hello, wor", crate::Prefill::FinalTurn)
                .unwrap(),
        )
        .unwrap()
    };
    let messages = prefilled(
        &MESSAGES,
        serde_json::json!({"model": "m", "max_tokens": 9, "context_management": {"x": 1},
            "messages": [{"role": "user", "content": "Hi"}]}),
    );
    assert_eq!(
        messages["messages"][1],
        serde_json::json!({"role": "assistant", "content": "Hello, wor"})
    );
    assert_eq!(
        messages["context_management"]["x"], 1,
        "the rest is kept as sent"
    );
    let gemini = prefilled(
        &GEMINI,
        serde_json::json!({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}),
    );
    assert_eq!(
        gemini["contents"][1],
        serde_json::json!({"role": "model", "parts": [{"text": "Hello, wor"}]})
    );
    assert!(RESPONSES
        .native_prefill(b"{\"input\":[]}", "x", crate::Prefill::FinalTurn)
        .is_err());
}

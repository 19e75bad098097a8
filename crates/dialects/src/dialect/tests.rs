use super::Dialect;

#[test]
fn usage_tokens_read_each_dialects_own_fields() {
    let cases: [(Dialect, &str, Option<u64>); 7] = [
        (
            Dialect::Anthropic,
            r#"{"content":[],"usage":{"input_tokens":9,"output_tokens":3,"cache_creation_input_tokens":2,"cache_read_input_tokens":100}}"#,
            Some(14),
        ),
        (
            Dialect::OpenaiChat,
            r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#,
            Some(12),
        ),
        (
            Dialect::Openrouter,
            r#"{"usage":{"input_tokens":5,"output_tokens":7,"total_tokens":12}}"#,
            Some(12),
        ),
        (
            Dialect::Gemini,
            r#"{"candidates":[],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":7}}"#,
            Some(7),
        ),
        (
            Dialect::Ollama,
            r#"{"message":{},"prompt_eval_count":26,"eval_count":290}"#,
            Some(316),
        ),
        (Dialect::Gemini, r#"{"candidates":[]}"#, None),
        (Dialect::OpenaiChat, "not json", None),
    ];
    for (dialect, body, expected) in cases {
        assert_eq!(
            dialect.usage_tokens(body.as_bytes()),
            expected,
            "{dialect:?} {body}"
        );
    }
}

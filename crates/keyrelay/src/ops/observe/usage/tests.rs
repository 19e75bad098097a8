use super::*;

fn scan(chunks: &[&str]) -> Option<Usage> {
    let mut scan = UsageScan::default();
    for chunk in chunks {
        scan.feed(chunk.as_bytes());
    }
    scan.finish()
}

fn usage(input: u64, output: u64, cache_read: u64, cache_write: u64) -> Option<Usage> {
    Some(Usage {
        input,
        output,
        cache_read,
        cache_write,
    })
}

#[test]
fn usage_is_read_from_every_shape_and_across_chunks() {
    // Anthropic stream: input at message_start, output at message_delta.
    assert_eq!(
        scan(&[
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tok",
            "ens\":25,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"delta\":{}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n",
        ]),
        usage(25, 15, 0, 0)
    );
    // A whole Anthropic message without a trailing newline.
    assert_eq!(
        scan(&["{\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":3}}"]),
        usage(9, 3, 0, 0)
    );
    // OpenAI Chat with include_usage; Responses; Gemini; Ollama.
    assert_eq!(
        scan(&["data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}\n\ndata: [DONE]\n\n"]),
        usage(5, 7, 0, 0)
    );
    assert_eq!(
        scan(&["data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":4,\"output_tokens\":2}}}\n"]),
        usage(4, 2, 0, 0)
    );
    assert_eq!(
        scan(&["{\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":3}}"]),
        usage(5, 5, 0, 0)
    );
    assert_eq!(
        scan(&["{\"done\":true,\"prompt_eval_count\":26,\"eval_count\":290}\n"]),
        usage(26, 290, 0, 0)
    );
    assert_eq!(scan(&["data: {\"text\":\"no counts here\"}\n"]), None);
    assert_eq!(
        scan(&["data: {\"type\":\"response.created\",\"response\":{\"usage\":null}}\n"]),
        None
    );
}

#[test]
fn cache_reads_and_writes_are_counted_once_in_each_shape() {
    // Anthropic: input_tokens leaves the cache out.
    assert_eq!(
        scan(&["{\"usage\":{\"input_tokens\":10,\"cache_read_input_tokens\":1000,\"cache_creation_input_tokens\":200,\"output_tokens\":5}}"]),
        usage(10, 5, 1000, 200)
    );
    // OpenAI Chat: prompt_tokens holds the cached ones.
    assert_eq!(
        scan(&["{\"usage\":{\"prompt_tokens\":1210,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":1000}}}"]),
        usage(210, 5, 1000, 0)
    );
    // OpenRouter adds the cache writes it billed.
    assert_eq!(
        scan(&["{\"usage\":{\"prompt_tokens\":1210,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":1000,\"cache_write_tokens\":200}}}"]),
        usage(10, 5, 1000, 200)
    );
    // Responses: input_tokens holds them too.
    assert_eq!(
        scan(&["{\"usage\":{\"input_tokens\":1210,\"output_tokens\":5,\"input_tokens_details\":{\"cached_tokens\":1000}}}"]),
        usage(210, 5, 1000, 0)
    );
    // Gemini: promptTokenCount holds cachedContentTokenCount.
    assert_eq!(
        scan(&["{\"usageMetadata\":{\"promptTokenCount\":1210,\"cachedContentTokenCount\":1000,\"candidatesTokenCount\":5}}"]),
        usage(210, 5, 1000, 0)
    );
    // A Gemini stream reports growing counts chunk by chunk.
    assert_eq!(
        scan(&[
            "data: {\"usageMetadata\":{\"promptTokenCount\":50,\"candidatesTokenCount\":1}}\n\n",
            "data: {\"usageMetadata\":{\"promptTokenCount\":50,\"candidatesTokenCount\":9}}\n\n",
        ]),
        usage(50, 9, 0, 0)
    );
}

#[test]
fn an_embeddings_answer_reports_its_input_tokens_only() {
    // OpenAI's embeddings answer, pretty-printed as OpenAI sends it.
    let openai = "{\n  \"object\": \"list\",\n  \"data\": [\n    {\n      \"object\": \"embedding\",\n      \"index\": 0,\n      \"embedding\": [\n        -0.006929283,\n        -0.005336422\n      ]\n    }\n  ],\n  \"model\": \"text-embedding-3-small\",\n  \"usage\": {\n    \"prompt_tokens\": 5,\n    \"total_tokens\": 5\n  }\n}\n";
    assert_eq!(scan(&[openai]), usage(5, 0, 0, 0));
    // The same on one line, as keyrelay writes a translated answer.
    let line = "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":\"AAAAPw==\"}],\"model\":\"m\",\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}";
    assert_eq!(scan(&[line]), usage(8, 0, 0, 0));
    // Ollama's /api/embed.
    let ollama = "{\"model\":\"embeddinggemma\",\"embeddings\":[[0.01,-0.001]],\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":8}";
    assert_eq!(scan(&[ollama]), usage(8, 0, 0, 0));
}

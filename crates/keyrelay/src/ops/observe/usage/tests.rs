use super::*;

fn scan(chunks: &[&str]) -> (Option<u64>, Option<u64>) {
    let mut scan = UsageScan::default();
    for chunk in chunks {
        scan.feed(chunk.as_bytes());
    }
    scan.finish()
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
        (Some(25), Some(15))
    );
    // A whole Anthropic message without a trailing newline.
    assert_eq!(
        scan(&["{\"content\":[],\"usage\":{\"input_tokens\":9,\"output_tokens\":3}}"]),
        (Some(9), Some(3))
    );
    // OpenAI Chat with include_usage; Responses; Gemini; Ollama.
    assert_eq!(
        scan(&["data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7}}\n\ndata: [DONE]\n\n"]),
        (Some(5), Some(7))
    );
    assert_eq!(
        scan(&["data: {\"type\":\"response.completed\",\"response\":{\"usage\":{\"input_tokens\":4,\"output_tokens\":2}}}\n"]),
        (Some(4), Some(2))
    );
    assert_eq!(
        scan(&["{\"usageMetadata\":{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"thoughtsTokenCount\":3}}"]),
        (Some(5), Some(5))
    );
    assert_eq!(
        scan(&["{\"done\":true,\"prompt_eval_count\":26,\"eval_count\":290}\n"]),
        (Some(26), Some(290))
    );
    assert_eq!(
        scan(&["data: {\"text\":\"no counts here\"}\n"]),
        (None, None)
    );
}

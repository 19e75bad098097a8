#![allow(clippy::unwrap_used)]

use super::answer::AnswerScan;
use super::{operation, provider_name};

fn scan(chunks: &[&str]) -> AnswerScan {
    let mut scan = AnswerScan::default();
    for chunk in chunks {
        scan.feed(chunk.as_bytes());
    }
    scan.finish();
    scan
}

#[test]
fn an_anthropic_stream_tells_its_model_and_stop_reason_across_chunks() {
    let scan = scan(&[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"claude-sonnet-4-5-2025",
        "0929\",\"stop_reason\":null,\"usage\":{\"input_tokens\":3}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"say \\\"stop_reason\\\": \\\"fake\\\" and \\\"model\\\": \\\"fake\\\"\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n",
    ]);
    assert_eq!(scan.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
    assert_eq!(scan.finish_reasons, ["end_turn"]);
}

#[test]
fn openai_and_gemini_answers_tell_theirs() {
    let openai = scan(&[
        "{\"id\":\"chatcmpl-1\",\"model\":\"gpt-4.1-2025-04-14\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"},{\"index\":1,\"finish_reason\":\"length\"}]}",
    ]);
    assert_eq!(openai.model.as_deref(), Some("gpt-4.1-2025-04-14"));
    // One line holds both choices: the first reason of each key is read.
    assert_eq!(openai.finish_reasons, ["stop"]);
    let gemini = scan(&[
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}],\"modelVersion\":\"gemini-2.5-flash\"}\n\n",
    ]);
    assert_eq!(gemini.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(gemini.finish_reasons, ["STOP"]);
}

#[test]
fn the_operation_follows_the_path() {
    assert_eq!(operation("messages", "/v1/messages"), "chat");
    assert_eq!(operation("chat", "/v1/chat/completions"), "chat");
    assert_eq!(operation("responses", "/v1/responses"), "chat");
    assert_eq!(
        operation(
            "gemini",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
        ),
        "generate_content"
    );
    assert_eq!(operation("other", "/v1/embeddings"), "embeddings");
    assert_eq!(
        operation("gemini", "/v1beta/models/text-embedding-004:embedContent"),
        "embeddings"
    );
    assert_eq!(
        operation("passthrough", "/p/openai/chat/completions"),
        "chat"
    );
    assert_eq!(
        operation("count_tokens", "/v1/messages/count_tokens"),
        "count_tokens"
    );
    assert_eq!(
        operation("gemini", "/v1beta/models/gemini-2.5-flash:countTokens"),
        "count_tokens"
    );
    assert_eq!(provider_name("gemini"), "gcp.gemini");
    assert_eq!(provider_name("anthropic"), "anthropic");
    assert_eq!(provider_name("openrouter"), "openrouter");
}

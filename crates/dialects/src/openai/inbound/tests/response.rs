use serde_json::json;

use crate::anthropic::{ContentBlock, MessagesResponse, StopReason, Usage};
use crate::openai::inbound::{completion, ChatMeta};

fn meta() -> ChatMeta {
    ChatMeta {
        id: "chatcmpl-abc".into(),
        model: "anthropic@claude-sonnet-4-5".into(),
        created: 1_735_689_600,
    }
}

fn message(content: Vec<ContentBlock>, stop: StopReason) -> MessagesResponse {
    let usage = Usage {
        input_tokens: 20,
        output_tokens: 7,
        cache_creation_input_tokens: 3,
        cache_read_input_tokens: 100,
    };
    MessagesResponse::new("msg_1".into(), "claude".into(), content, stop, usage)
}

#[test]
fn text_becomes_the_message_content_with_openai_usage() {
    let body = completion(
        &message(
            vec![ContentBlock::text("Hello"), ContentBlock::text(" there")],
            StopReason::EndTurn,
        ),
        &meta(),
    );
    assert_eq!(
        body,
        json!({
            "id": "chatcmpl-abc",
            "object": "chat.completion",
            "created": 1_735_689_600,
            "model": "anthropic@claude-sonnet-4-5",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Hello there", "refusal": null}}],
            "usage": {"prompt_tokens": 123, "completion_tokens": 7, "total_tokens": 130,
                "prompt_tokens_details": {"cached_tokens": 100}},
        })
    );
}

#[test]
fn tool_calls_carry_ids_names_and_json_arguments() {
    let body = completion(
        &message(
            vec![
                ContentBlock::Thinking {
                    thinking: "Two lookups.".into(),
                    signature: "sig".into(),
                },
                ContentBlock::ToolUse {
                    id: "toolu_01".into(),
                    name: "get_weather".into(),
                    input: json!({"city": "Paris"}),
                },
                ContentBlock::ToolUse {
                    id: "toolu_02".into(),
                    name: "get_weather".into(),
                    input: json!({"city": "Tokyo"}),
                },
            ],
            StopReason::ToolUse,
        ),
        &meta(),
    );
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], serde_json::Value::Null);
    assert_eq!(choice["message"]["reasoning_content"], "Two lookups.");
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([
            {"id": "toolu_01", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
            {"id": "toolu_02", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}},
        ])
    );
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    let finish =
        |stop| completion(&message(vec![], stop), &meta())["choices"][0]["finish_reason"].clone();
    assert_eq!(finish(StopReason::MaxTokens), "length");
    assert_eq!(finish(StopReason::ModelContextWindowExceeded), "length");
    assert_eq!(finish(StopReason::StopSequence), "stop");
    assert_eq!(finish(StopReason::Refusal), "content_filter");
    assert_eq!(finish(StopReason::ToolUse), "tool_calls");
}

#[test]
fn a_thinking_block_with_only_a_signature_adds_no_reasoning_content() {
    let body = completion(
        &message(
            vec![
                ContentBlock::Thinking {
                    thinking: String::new(),
                    signature: "gemini:U0lH".into(),
                },
                ContentBlock::ToolUse {
                    id: "toolu_gmX-0".into(),
                    name: "get_weather".into(),
                    input: json!({"city": "Paris"}),
                },
            ],
            StopReason::ToolUse,
        ),
        &meta(),
    );
    let message = &body["choices"][0]["message"];
    assert!(message.get("reasoning_content").is_none(), "{message}");
    assert_eq!(message["tool_calls"][0]["id"], "toolu_gmX-0");
}

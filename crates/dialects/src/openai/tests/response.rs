use serde_json::{json, Value};

use crate::anthropic::{ContentBlock, MessagesResponse, StopReason, Usage};
use crate::openai::OpenAiChat;
use crate::translate::{TranslateError, Translator};

const TEXT: &str = include_str!("../../../tests/fixtures/openai_text.json");
const DEEPSEEK_TOOL_CALL: &str =
    include_str!("../../../tests/fixtures/openai_deepseek_tool_call.json");

fn translate(body: &str) -> Result<MessagesResponse, TranslateError> {
    OpenAiChat.response(body.as_bytes(), "claude-sonnet-4-5", "msg_0123")
}

fn ok(body: Value) -> MessagesResponse {
    translate(&body.to_string()).expect("response translates")
}

fn choice(message: Value, finish_reason: &str) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "choices": [
        {"index": 0, "message": message, "finish_reason": finish_reason}
    ]})
}

#[test]
fn text_becomes_a_text_block_under_the_given_id_and_model() {
    let response = translate(TEXT).unwrap();
    assert_eq!(response.id, "msg_0123");
    assert_eq!(response.model, "claude-sonnet-4-5");
    assert_eq!(
        (response.kind.as_str(), response.role.as_str()),
        ("message", "assistant")
    );
    assert_eq!(response.content.len(), 1);
    let ContentBlock::Text { text, .. } = &response.content[0] else {
        panic!("expected text, got {:?}", response.content[0]);
    };
    assert!(text.starts_with("**Holiday Name:** Galaxy Day"));
    assert!(text.contains("darkness\u{2014}mirroring"));
    assert_eq!(response.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 16,
            output_tokens: 363,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0
        }
    );
}

#[test]
fn reasoning_content_becomes_a_thinking_block_before_the_tool_call() {
    let response = translate(DEEPSEEK_TOOL_CALL).unwrap();
    assert_eq!(
        response.content,
        [
            ContentBlock::Thinking {
                thinking: String::from(
                    "The user asks about weather in San Francisco. I'll call the weather tool."
                ),
                signature: String::new(),
            },
            ContentBlock::ToolUse {
                id: String::from("call_00_lCIkdHRa7AKmCG3TlxXz1061"),
                name: String::from("weather"),
                input: json!({"location": "San Francisco"}),
            },
        ]
    );
    assert_eq!(response.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(
        (response.usage.input_tokens, response.usage.output_tokens),
        (374, 60)
    );
}

#[test]
fn openrouter_reasoning_becomes_a_thinking_block_before_the_text() {
    let response = ok(choice(
        json!({"role": "assistant", "content": "345", "reasoning": "15 * 23 = 345"}),
        "stop",
    ));
    assert_eq!(
        response.content,
        [
            ContentBlock::Thinking {
                thinking: String::from("15 * 23 = 345"),
                signature: String::new()
            },
            ContentBlock::text("345"),
        ]
    );
}

#[test]
fn finish_reasons_map_to_stop_reasons() {
    let text = json!({"role": "assistant", "content": "x"});
    let cases = [
        ("stop", StopReason::EndTurn),
        ("length", StopReason::MaxTokens),
        ("tool_calls", StopReason::ToolUse),
        ("function_call", StopReason::ToolUse),
        ("content_filter", StopReason::Refusal),
        ("something_new", StopReason::EndTurn),
    ];
    for (finish_reason, stop_reason) in cases {
        assert_eq!(
            ok(choice(text.clone(), finish_reason)).stop_reason,
            Some(stop_reason),
            "{finish_reason}"
        );
    }
}

#[test]
fn a_stop_finish_after_tool_calls_is_tool_use() {
    // Ollama and vLLM report "stop" on turns that call tools.
    let message = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": "{\"path\":\"a\"}"}}
    ]});
    assert_eq!(
        ok(choice(message, "stop")).stop_reason,
        Some(StopReason::ToolUse)
    );
}

#[test]
fn cached_prompt_tokens_are_reported_as_cache_reads_not_input() {
    let mut body = choice(json!({"role": "assistant", "content": "x"}), "stop");
    body["usage"] = json!({"prompt_tokens": 1200, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 1024}});
    assert_eq!(
        ok(body.clone()).usage,
        Usage {
            input_tokens: 176,
            output_tokens: 30,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 1024
        }
    );
    // DeepSeek's own field when prompt_tokens_details is absent.
    body["usage"] = json!({"prompt_tokens": 374, "completion_tokens": 61, "prompt_cache_hit_tokens": 256, "prompt_cache_miss_tokens": 118});
    let usage = ok(body).usage;
    assert_eq!(
        (usage.input_tokens, usage.cache_read_input_tokens),
        (118, 256)
    );
}

#[test]
fn tool_arguments_that_are_not_a_json_object_are_kept_under_raw_arguments() {
    let message = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\": \"ls"}},
        {"id": "call_2", "type": "function", "function": {"name": "Bash", "arguments": ""}},
        {"id": "call_3", "type": "function", "function": {"name": "Bash", "arguments": {"command": "pwd"}}}
    ]});
    let response = ok(choice(message, "tool_calls"));
    let inputs: Vec<&Value> = response
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse { input, .. } => Some(input),
            _ => None,
        })
        .collect();
    assert_eq!(
        inputs,
        [
            &json!({"raw_arguments": "{\"command\": \"ls"}),
            &json!({}),
            &json!({"command": "pwd"})
        ]
    );
}

#[test]
fn tool_calls_without_an_id_get_a_deterministic_one() {
    let message = json!({"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "Read", "arguments": "{}"}}]});
    let response = ok(choice(message, "tool_calls"));
    let ContentBlock::ToolUse { id, .. } = &response.content[0] else {
        panic!("expected tool_use");
    };
    assert_eq!(id, "toolu_0123_0");
}

#[test]
fn content_given_as_parts_is_joined_into_text() {
    let message = json!({"role": "assistant", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}]});
    assert_eq!(
        ok(choice(message, "stop")).content,
        [ContentBlock::text("Hello there")]
    );
}

#[test]
fn a_refusal_becomes_text_with_a_refusal_stop_reason() {
    let message =
        json!({"role": "assistant", "content": null, "refusal": "I can't help with that."});
    let response = ok(choice(message, "stop"));
    assert_eq!(
        response.content,
        [ContentBlock::text("I can't help with that.")]
    );
    assert_eq!(response.stop_reason, Some(StopReason::Refusal));
}

#[test]
fn an_error_object_in_a_200_body_is_an_error() {
    let openai = json!({"error": {"message": "Rate limit reached for gpt-4o", "type": "requests", "code": "rate_limit_exceeded"}});
    let error = translate(&openai.to_string()).unwrap_err();
    assert_eq!(
        error.0,
        "upstream error (rate_limit_error): Rate limit reached for gpt-4o"
    );

    let openrouter = json!({"error": {"code": 502, "message": "Provider returned error", "metadata": {"raw": "upstream connect error"}}});
    let error = translate(&openrouter.to_string()).unwrap_err();
    assert_eq!(
        error.0,
        "upstream error (api_error): Provider returned error (upstream connect error)"
    );

    let vllm = json!({"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "code": 500});
    assert!(translate(&vllm.to_string())
        .unwrap_err()
        .0
        .contains("CUDA out of memory"));
}

#[test]
fn a_body_that_is_not_a_completion_is_an_error() {
    assert!(translate("<html>Bad gateway</html>").is_err());
    assert_eq!(
        translate(r#"{"id":"x","choices":[]}"#).unwrap_err().0,
        "upstream response has no choices"
    );
}

#[test]
fn unknown_fields_are_ignored() {
    let mut body = choice(
        json!({"role": "assistant", "content": "ok", "annotations": [], "audio": null, "future": {"x": 1}}),
        "stop",
    );
    body["service_tier"] = json!("default");
    body["provider"] = json!("DeepInfra");
    body["usage"] = json!({"prompt_tokens": 5, "completion_tokens": 1, "cost": 0.00001, "prompt_tokens_details": null});
    let response = ok(body);
    assert_eq!(response.content, [ContentBlock::text("ok")]);
    assert_eq!(
        (response.usage.input_tokens, response.usage.output_tokens),
        (5, 1)
    );
}

use serde_json::json;

use super::*;
use crate::anthropic::MessagesResponse;
use crate::openai::responses_in::response_object;

fn message(content: Value, stop: &str) -> MessagesResponse {
    serde_json::from_value(json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude",
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 40, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5}}))
    .expect("a hub message")
}

#[test]
fn a_whole_answer_is_a_response_with_reasoning_message_and_calls() {
    let meta = meta_for(
        json!({"model": "m", "input": "Hi", "reasoning": {"effort": "low", "summary": "auto"},
        "tools": [{"type": "function", "name": "get_weather"}], "store": false}),
    );
    let answer = message(
        json!([
            {"type": "thinking", "thinking": "The user wants weather twice.", "signature": "sig"},
            {"type": "text", "text": "Checking "},
            {"type": "text", "text": "both."},
            {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_b", "name": "get_weather", "input": {"city": "Oslo"}},
        ]),
        "tool_use",
    );
    let body = response_object(&answer, &meta);
    assert_eq!(body["id"], "resp_TEST");
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["model"], "client-model");
    assert_eq!(body["created_at"], 1_735_689_600);
    assert_eq!(body["store"], false, "the request's own store, echoed");
    assert_eq!(body["tools"][0]["name"], "get_weather");
    let output = body["output"].as_array().unwrap();
    assert_eq!(
        output[0],
        json!({"id": "rs_TEST00", "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "The user wants weather twice."}]})
    );
    assert_eq!(
        output[1],
        json!({"id": "msg_TEST01", "type": "message", "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": "Checking both."}]})
    );
    assert_eq!(
        output[2],
        json!({"id": "fc_TEST02", "type": "function_call", "status": "completed",
        "call_id": "toolu_a", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"})
    );
    assert_eq!(output[3]["call_id"], "toolu_b");
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 125, "input_tokens_details": {"cached_tokens": 100},
        "output_tokens": 40, "output_tokens_details": {"reasoning_tokens": 8}, "total_tokens": 165})
    );
}

#[test]
fn reasoning_text_shows_only_when_summaries_were_asked_for() {
    let answer = message(
        json!([{"type": "thinking", "thinking": "secret", "signature": "s"},
        {"type": "redacted_thinking", "data": "xyz"}, {"type": "text", "text": "Hi"}]),
        "end_turn",
    );
    let body = response_object(&answer, &plain_meta(false));
    assert_eq!(body["output"][0]["summary"], json!([]));
    assert_eq!(
        body["output"][1],
        json!({"id": "rs_TEST01", "type": "reasoning", "summary": []})
    );
    assert!(!body.to_string().contains("secret"));
}

#[test]
fn custom_and_namespaced_calls_read_back_as_the_clients_tools() {
    let meta = meta_for(json!({"model": "m", "input": "Hi", "tools": [
        {"type": "custom", "name": "apply_patch"},
        {"type": "namespace", "name": "crm", "description": "", "tools": [{"type": "function", "name": "lookup"}]}]}));
    let answer = message(
        json!([
            {"type": "tool_use", "id": "toolu_p", "name": "apply_patch", "input": {"input": "*** Begin Patch\n*** End Patch\n"}},
            {"type": "tool_use", "id": "toolu_l", "name": "crm__lookup", "input": {}},
        ]),
        "tool_use",
    );
    let output = &response_object(&answer, &meta)["output"];
    assert_eq!(
        output[0],
        json!({"id": "fc_TEST00", "type": "custom_tool_call", "status": "completed",
        "call_id": "toolu_p", "name": "apply_patch", "input": "*** Begin Patch\n*** End Patch\n"})
    );
    assert_eq!(
        output[1],
        json!({"id": "fc_TEST01", "type": "function_call", "status": "completed",
        "call_id": "toolu_l", "name": "lookup", "namespace": "crm", "arguments": "{}"})
    );
}

#[test]
fn a_stop_at_the_limit_or_a_refusal_is_incomplete() {
    let body = response_object(
        &message(json!([{"type": "text", "text": "Once upon"}]), "max_tokens"),
        &plain_meta(false),
    );
    assert_eq!(body["status"], "incomplete");
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
    let body = response_object(&message(json!([]), "refusal"), &plain_meta(false));
    assert_eq!(
        body["incomplete_details"],
        json!({"reason": "content_filter"})
    );
    assert_eq!(body["output"], json!([]));
}

#[test]
fn a_thinking_block_with_only_a_signature_is_no_reasoning_item() {
    let answer = message(
        json!([
            {"type": "thinking", "thinking": "", "signature": "gemini:U0lH"},
            {"type": "tool_use", "id": "toolu_gmX-0", "name": "get_weather", "input": {"city": "Paris"}},
        ]),
        "tool_use",
    );
    let body = response_object(&answer, &plain_meta(true));
    let output = body["output"].as_array().unwrap();
    assert_eq!(output.len(), 1);
    assert_eq!(output[0]["type"], "function_call");
}

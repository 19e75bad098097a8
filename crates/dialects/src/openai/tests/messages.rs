use serde_json::{json, Value};

use super::{body, user};

#[test]
fn a_system_string_becomes_a_leading_system_message() {
    let body = body(json!({"model": "m", "system": "Be brief.", "messages": [user("hi")]}));
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    );
}

#[test]
fn system_blocks_become_one_leading_system_message() {
    let body = body(json!({
        "model": "m",
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be brief."}],
        "messages": [user("hi")]
    }));
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are Claude Code.\n\nBe brief."})
    );
}

#[test]
fn system_entries_inside_messages_stay_in_place() {
    let body = body(json!({
        "model": "m",
        "messages": [user("one"), {"role": "system", "content": [{"type": "text", "text": "Mode changed."}]}, user("two")]
    }));
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "one"},
            {"role": "system", "content": "Mode changed."},
            {"role": "user", "content": "two"}
        ])
    );
}

#[test]
fn text_only_user_blocks_become_one_string() {
    let body = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>x</system-reminder>"},
            {"type": "text", "text": "fix the bug", "cache_control": {"type": "ephemeral"}}
        ]}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        "<system-reminder>x</system-reminder>\n\nfix the bug"
    );
}

#[test]
fn images_become_image_url_parts_with_data_urls_for_base64() {
    let body = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "compare"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
        ]}]}),
    );
    assert_eq!(
        body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "compare"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}
        ])
    );
}

#[test]
fn assistant_tool_use_becomes_tool_calls_with_arguments_as_a_json_string() {
    let body = body(
        json!({"model": "m", "messages": [user("read it"), {"role": "assistant", "content": [
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {"path": "a.rs"}},
            {"type": "tool_use", "id": "toolu_02", "name": "Read", "input": {"path": "b.rs"}}
        ]}]}),
    );
    let assistant = &body["messages"][1];
    assert_eq!(assistant["role"], "assistant");
    assert_eq!(assistant["content"], "Reading.");
    assert_eq!(
        assistant["tool_calls"],
        json!([
            {"id": "toolu_01", "type": "function", "function": {"name": "Read", "arguments": "{\"path\":\"a.rs\"}"}},
            {"id": "toolu_02", "type": "function", "function": {"name": "Read", "arguments": "{\"path\":\"b.rs\"}"}}
        ])
    );
}

#[test]
fn thinking_is_dropped_from_assistant_history() {
    let body = body(json!({"model": "m", "messages": [
        user("q"),
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "tool_use", "id": "toolu_01", "name": "Read", "input": {}}
        ]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "only thoughts", "signature": "s"}]}
    ]}));
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        2,
        "the thinking-only turn is dropped: {messages:?}"
    );
    assert_eq!(messages[1]["content"], Value::Null);
    assert_eq!(messages[1]["tool_calls"][0]["function"]["arguments"], "{}");
    assert!(!body.to_string().contains("hmm") && !body.to_string().contains("opaque"));
}

#[test]
fn tool_results_become_tool_messages_before_the_rest_of_the_user_message() {
    let body = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "also look at c.rs"},
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "fn a() {}"},
            {"type": "tool_result", "tool_use_id": "toolu_02", "content": [{"type": "text", "text": "fn b() {}"}]}
        ]}]}),
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "tool", "tool_call_id": "toolu_01", "content": "fn a() {}"},
            {"role": "tool", "tool_call_id": "toolu_02", "content": "fn b() {}"},
            {"role": "user", "content": "also look at c.rs"}
        ])
    );
}

#[test]
fn error_tool_results_keep_their_text_marked_as_an_error() {
    let body = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "No such file", "is_error": true},
            {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": true}
        ]}]}),
    );
    assert_eq!(body["messages"][0]["content"], "Error: No such file");
    assert_eq!(body["messages"][1]["content"], "Error");
}

#[test]
fn tool_result_images_go_to_a_following_user_message_that_names_the_call() {
    let body = body(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": [
                {"type": "text", "text": "screenshot taken"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}}
            ]},
            {"type": "text", "text": "what do you see?"}
        ]}]}),
    );
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "tool");
    assert_eq!(
        messages[0]["content"],
        "screenshot taken\n(this result's images follow in the next user message)"
    );
    assert_eq!(
        messages[1],
        json!({"role": "user", "content": [
            {"type": "text", "text": "Images from the result of tool call toolu_01:"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
            {"type": "text", "text": "what do you see?"}
        ]})
    );
}

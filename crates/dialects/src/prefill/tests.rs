use serde_json::json;

use super::*;

fn request(messages: serde_json::Value) -> MessagesRequest {
    serde_json::from_value(json!({"model": "m", "messages": messages})).unwrap()
}

#[test]
fn a_prefill_becomes_a_last_assistant_message() {
    let hub = request(json!([{"role": "user", "content": "Say hello"}]));
    let prefilled = with_prefill(&hub, "Hello, wor");
    let last = prefilled.messages.last().unwrap();
    assert_eq!(last.role, Role::Assistant);
    assert_eq!(last.content, Content::Text("Hello, wor".into()));
}

#[test]
fn a_clients_own_prefill_is_extended() {
    let hub = request(json!([
        {"role": "user", "content": "JSON please"},
        {"role": "assistant", "content": "{\"a\":"}]));
    let prefilled = with_prefill(&hub, " 1, \"b\"");
    assert_eq!(prefilled.messages.len(), 2);
    assert_eq!(
        prefilled.messages[1].content.blocks(),
        [ContentBlock::text("{\"a\": 1, \"b\"")]
    );
}

#[test]
fn trailing_whitespace_is_left_off_a_prefill() {
    assert_eq!(prefill_text("Hello, world \n"), "Hello, world");
}

#[test]
fn deepseek_wants_its_prefix_marked() {
    let mut messages = vec![json!({"role": "user", "content": "code"})];
    push_assistant_text(&mut messages, "```python\n", Prefill::PrefixFlag);
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": "```python\n", "prefix": true})
    );
    let mut messages = vec![
        json!({"role": "user", "content": "code"}),
        json!({"role": "assistant", "content": [{"type": "text", "text": "a"}]}),
    ];
    push_assistant_text(&mut messages, "b", Prefill::FinalTurn);
    assert_eq!(messages[1]["content"][0]["text"], "ab");
}

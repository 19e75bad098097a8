use super::*;

#[test]
fn requests_come_near_their_size_and_repeat_byte_for_byte() {
    for tokens in [1_000, 10_000, 100_000] {
        let body = messages_request("claude-sonnet-4-5", tokens);
        let wanted = tokens * CHARS_PER_TOKEN;
        assert!(
            body.len() >= wanted && body.len() < wanted + wanted / 5,
            "{tokens} tokens: {} bytes",
            body.len()
        );
        assert_eq!(body, messages_request("claude-sonnet-4-5", tokens));
    }
}

#[test]
fn requests_are_agent_turns() {
    let body: Value = serde_json::from_slice(&messages_request("m", 10_000)).unwrap();
    assert_eq!(body["model"], "m");
    assert!(body["tools"].as_array().unwrap().len() > 3);
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.first().unwrap()["role"], "user");
    assert_eq!(messages.last().unwrap()["role"], "user");
    let blocks: Vec<_> = messages
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert!(blocks.contains(&"tool_use") && blocks.contains(&"tool_result"));
}

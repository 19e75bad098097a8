use serde_json::{json, Value};

use super::*;

fn body(request: Value) -> Value {
    let request: MessagesRequest = serde_json::from_value(request).expect("a hub request");
    let sent = AnthropicUpstream
        .request(&request, "claude-sonnet-4-5")
        .expect("translates");
    assert_eq!(sent.path, "/v1/messages");
    sent.body
}

fn user() -> Value {
    json!([{"role": "user", "content": "Hi"}])
}

#[test]
fn max_tokens_defaults_and_the_model_is_the_routes() {
    let sent = body(json!({"model": "anthropic@claude-sonnet-4-5", "messages": user()}));
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["max_tokens"], DEFAULT_MAX_TOKENS);
}

#[test]
fn thinking_fits_below_max_tokens_and_drops_temperature() {
    let sent = body(json!({"model": "m", "messages": user(), "temperature": 0.2,
        "thinking": {"type": "enabled", "budget_tokens": 12288}}));
    assert_eq!(sent["max_tokens"], 12_288 + DEFAULT_MAX_TOKENS);
    assert_eq!(sent["thinking"]["budget_tokens"], 12_288);
    assert!(sent.get("temperature").is_none());

    let sent = body(json!({"model": "m", "messages": user(), "max_tokens": 5000,
        "thinking": {"type": "enabled", "budget_tokens": 32768}}));
    assert_eq!(sent["thinking"]["budget_tokens"], 4999);

    let sent = body(json!({"model": "m", "messages": user(), "max_tokens": 800,
        "thinking": {"type": "enabled", "budget_tokens": 4096}}));
    assert!(sent.get("thinking").is_none(), "{sent}");
}

#[test]
fn thinking_is_left_off_where_anthropic_would_refuse_it() {
    let tools = json!([{"name": "f", "input_schema": {"type": "object"}}]);
    let forced = body(json!({"model": "m", "messages": user(), "tools": tools,
        "tool_choice": {"type": "any"}, "thinking": {"type": "enabled", "budget_tokens": 4096}}));
    assert!(forced.get("thinking").is_none(), "{forced}");

    let unsigned = json!([
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "sunny"}]},
    ]);
    let sent = body(json!({"model": "m", "messages": unsigned, "tools": tools,
        "thinking": {"type": "enabled", "budget_tokens": 4096}}));
    assert!(sent.get("thinking").is_none(), "{sent}");
}

#[test]
fn temperature_is_clamped_top_p_yields_and_format_and_blank_stops_go() {
    let sent = body(
        json!({"model": "m", "messages": user(), "temperature": 1.7, "top_p": 0.5,
        "stop_sequences": [" ", "END"],
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}}),
    );
    assert_eq!(sent["temperature"], 1.0);
    assert!(sent.get("top_p").is_none());
    assert_eq!(sent["stop_sequences"], json!(["END"]));
    assert!(sent.get("output_config").is_none(), "{sent}");
}

#[test]
fn a_whole_answer_is_read_back_under_the_given_id_and_model() {
    let answer = json!({"id": "msg_up", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": "Hi"}], "stop_reason": "model_context_window_exceeded",
        "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 1}});
    let message = AnthropicUpstream
        .response(
            answer.to_string().as_bytes(),
            "anthropic@claude",
            "msg_mine",
        )
        .unwrap();
    assert_eq!(
        (message.id.as_str(), message.model.as_str()),
        ("msg_mine", "anthropic@claude")
    );
    assert_eq!(
        message.stop_reason,
        Some(super::super::StopReason::ModelContextWindowExceeded)
    );
}

use serde_json::{json, Value};

use super::{body, body_for, user};
use crate::anthropic::MessagesRequest;
use crate::openai::OpenAiChat;
use crate::translate::Translator;

#[test]
fn requests_go_to_chat_completions_without_query() {
    let request: MessagesRequest =
        serde_json::from_value(json!({"model": "m", "messages": [user("hi")]})).unwrap();
    let translated = OpenAiChat.request(&request, "gpt-4o").unwrap();
    assert_eq!(translated.path, "/chat/completions");
    assert_eq!(translated.query, None);
    assert_eq!(translated.body["model"], "gpt-4o");
}

#[test]
fn tools_with_schemas_become_functions_and_server_tools_are_skipped() {
    let schema =
        json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]});
    let body = body(json!({"model": "m", "messages": [user("hi")], "tools": [
        {"name": "Read", "description": "Read a file", "input_schema": schema},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
        {"name": "Noop", "input_schema": {"type": "object"}}
    ]}));
    assert_eq!(
        body["tools"],
        json!([
            {"type": "function", "function": {"name": "Read", "description": "Read a file", "parameters": schema}},
            {"type": "function", "function": {"name": "Noop", "parameters": {"type": "object"}}}
        ])
    );
}

fn tool_choice(choice: Value) -> Value {
    body(json!({
        "model": "m", "messages": [user("hi")],
        "tools": [{"name": "Read", "input_schema": {"type": "object"}}],
        "tool_choice": choice
    }))
}

#[test]
fn tool_choice_maps_to_openai_values() {
    assert_eq!(tool_choice(json!({"type": "auto"}))["tool_choice"], "auto");
    assert_eq!(
        tool_choice(json!({"type": "any"}))["tool_choice"],
        "required"
    );
    assert_eq!(tool_choice(json!({"type": "none"}))["tool_choice"], "none");
    assert_eq!(
        tool_choice(json!({"type": "tool", "name": "Read"}))["tool_choice"],
        json!({"type": "function", "function": {"name": "Read"}})
    );
    assert!(tool_choice(json!({"type": "auto"}))
        .get("parallel_tool_calls")
        .is_none());
}

#[test]
fn disabling_parallel_tool_use_sets_parallel_tool_calls_false() {
    let body = tool_choice(json!({"type": "any", "disable_parallel_tool_use": true}));
    assert_eq!(body["parallel_tool_calls"], false);
    assert_eq!(body["tool_choice"], "required");
}

#[test]
fn tool_choice_is_not_sent_without_tools() {
    let body = body(
        json!({"model": "m", "messages": [user("hi")], "tool_choice": {"type": "auto"},
        "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
    );
    assert!(body.get("tools").is_none());
    assert!(body.get("tool_choice").is_none());
}

#[test]
fn sampling_and_stop_sequences_pass_through() {
    let body = body(
        json!({"model": "m", "messages": [user("hi")], "max_tokens": 1024,
        "temperature": 0.2, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"]}),
    );
    assert_eq!(body["max_tokens"], 1024);
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["stop"], json!(["END"]));
    assert!(body.get("top_k").is_none(), "OpenAI rejects top_k");
}

#[test]
fn reasoning_models_get_max_completion_tokens_and_no_sampling_knobs() {
    for model in [
        "o1",
        "o3",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "openai/gpt-5",
        "openai/o3-mini",
    ] {
        let body = body_for(
            model,
            json!({"model": "m", "messages": [user("hi")], "max_tokens": 2048, "temperature": 1.0, "top_p": 0.5}),
        );
        assert_eq!(body["max_completion_tokens"], 2048, "{model}");
        assert!(body.get("max_tokens").is_none(), "{model}");
        assert!(
            body.get("temperature").is_none() && body.get("top_p").is_none(),
            "{model}"
        );
    }
    for model in [
        "gpt-4o",
        "gpt-4.1",
        "deepseek-chat",
        "qwen/qwen3-coder",
        "llama3.1:8b",
        "openrouter/auto",
    ] {
        let body = body_for(
            model,
            json!({"model": "m", "messages": [user("hi")], "max_tokens": 2048}),
        );
        assert_eq!(body["max_tokens"], 2048, "{model}");
        assert!(body.get("max_completion_tokens").is_none(), "{model}");
    }
}

fn effort(model: &str, extra: Value) -> Value {
    let mut request = json!({"model": "m", "messages": [user("hi")]});
    if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
        request.extend(extra.clone());
    }
    body_for(model, request)
        .get("reasoning_effort")
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn thinking_budgets_map_to_reasoning_effort() {
    let thinking = |budget: u32| json!({"thinking": {"type": "enabled", "budget_tokens": budget}});
    assert_eq!(effort("o3", thinking(1024)), "low");
    assert_eq!(effort("o3", thinking(7_999)), "low");
    assert_eq!(effort("o3", thinking(8_000)), "medium");
    assert_eq!(effort("deepseek-reasoner", thinking(10_000)), "medium");
    assert_eq!(effort("o3", thinking(24_000)), "high");
    assert_eq!(effort("o3", thinking(31_999)), "high");
    assert_eq!(
        effort("o3", json!({"thinking": {"type": "disabled"}})),
        Value::Null
    );
    assert_eq!(
        effort("o3", json!({"thinking": {"type": "adaptive"}})),
        Value::Null
    );
    assert_eq!(effort("o3", json!({})), Value::Null);
}

#[test]
fn output_config_effort_wins_over_the_thinking_budget() {
    let both = |effort: &str| json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "output_config": {"effort": effort}});
    assert_eq!(effort("gpt-5", both("high")), "high");
    assert_eq!(effort("gpt-5", both("max")), "high");
    assert_eq!(effort("gpt-5", both("medium")), "medium");
    assert_eq!(
        effort("gpt-5", json!({"output_config": {"effort": "low"}})),
        "low"
    );
}

#[test]
fn reasoning_effort_is_not_sent_to_openai_non_reasoning_models() {
    let thinking = json!({"thinking": {"type": "enabled", "budget_tokens": 10_000}});
    for model in [
        "gpt-4o",
        "gpt-4.1-mini",
        "openai/gpt-4o",
        "gpt-3.5-turbo",
        "chatgpt-4o-latest",
    ] {
        assert_eq!(effort(model, thinking.clone()), Value::Null, "{model}");
    }
}

#[test]
fn streaming_asks_for_usage_in_the_stream() {
    let body = body(json!({"model": "m", "messages": [user("hi")], "stream": true}));
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    let whole = self::body(json!({"model": "m", "messages": [user("hi")]}));
    assert!(whole.get("stream").is_none() && whole.get("stream_options").is_none());
}

#[test]
fn unknown_fields_and_blocks_are_ignored() {
    let body = body(json!({
        "model": "m",
        "future_knob": {"x": 1},
        "metadata": {"user_id": "user_abc_account__session_123"},
        "context_management": {"edits": []},
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}},
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
            {"type": "text", "text": "hi"}
        ]}]
    }));
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["messages", "model"],
        "no user, metadata or unknown fields are sent"
    );
}

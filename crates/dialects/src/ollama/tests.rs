use serde_json::{json, Value};

use super::response::error_kind;
use super::Ollama;
use crate::anthropic::{ContentBlock, MessagesRequest, StopReason, Usage};
use crate::Translator;

fn body(request: Value) -> Value {
    let request: MessagesRequest =
        serde_json::from_value(request).expect("valid Anthropic request");
    let translated = Ollama.request(&request, "qwen3:8b").expect("translates");
    assert_eq!(translated.path, "/api/chat");
    assert_eq!(translated.query, None);
    translated.body
}

fn messages(request: Value) -> Value {
    body(request)["messages"].clone()
}

#[test]
fn stream_is_always_sent_explicitly() {
    let plain = body(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(plain["model"], "qwen3:8b");
    assert_eq!(plain["stream"], false);
    let streamed = body(json!({"model": "m", "stream": true, "messages": []}));
    assert_eq!(streamed["stream"], true);
}

#[test]
fn structured_output_becomes_ollamas_format() {
    let schema =
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
    let request = |schema: Value| {
        body(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "output_config": {"format": {"type": "json_schema", "schema": schema}}}),
        )
    };
    assert_eq!(request(schema.clone())["format"], schema);
    assert_eq!(request(json!({"type": "object"}))["format"], "json");
    let plain = body(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    assert!(plain.get("format").is_none());
}

#[test]
fn system_prompt_and_system_entries_become_system_messages_in_order() {
    let got = messages(json!({
        "model": "m",
        "system": [{"type": "text", "text": "Be brief."}, {"type": "text", "text": "Be kind."}],
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "Reminder."}]},
            {"role": "user", "content": [{"type": "text", "text": "again"}]}
        ]
    }));
    assert_eq!(
        got,
        json!([
            {"role": "system", "content": "Be brief.\n\nBe kind."},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "Reminder."},
            {"role": "user", "content": "again"}
        ])
    );
    let string_system = messages(json!({"model": "m", "system": "Sys.", "messages": []}));
    assert_eq!(
        string_system,
        json!([{"role": "system", "content": "Sys."}])
    );
}

#[test]
fn base64_images_go_to_images_and_url_images_become_a_note() {
    let got = messages(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
            {"type": "document", "source": {"type": "text", "data": "skipped"}}
        ]}]}),
    );
    assert_eq!(got[0]["role"], "user");
    assert_eq!(got[0]["images"], json!(["iVBORw0KGgo="]));
    let content = got[0]["content"].as_str().unwrap_or_default();
    assert!(
        content.starts_with("What is this?\n\n[image not sent"),
        "{content}"
    );
    assert!(content.contains("https://example.com/cat.png"));
    assert!(!content.contains("skipped"), "unknown blocks are skipped");
}

#[test]
fn tools_become_functions_and_server_tools_are_dropped() {
    let got = body(json!({"model": "m", "messages": [], "tools": [
        {"name": "get_weather", "description": "Weather in a city",
         "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        {"name": "web_search", "type": "web_search_20250305"}
    ]}));
    assert_eq!(
        got["tools"],
        json!([{"type": "function", "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
        }}])
    );
}

#[test]
fn tool_choice_none_sends_no_tools_and_other_choices_send_them() {
    let tools = json!([{"name": "t", "input_schema": {"type": "object"}}]);
    let none = body(
        json!({"model": "m", "messages": [], "tools": tools, "tool_choice": {"type": "none"}}),
    );
    assert!(none.get("tools").is_none());
    let any =
        body(json!({"model": "m", "messages": [], "tools": tools, "tool_choice": {"type": "any"}}));
    assert_eq!(any["tools"][0]["function"]["name"], "t");
    assert!(
        any.get("tool_choice").is_none(),
        "Ollama has no tool_choice"
    );
}

#[test]
fn tool_use_and_tool_results_round_trip_with_names_and_error_prefix() {
    let got = messages(json!({"model": "m", "messages": [
        {"role": "user", "content": "Weather in Paris and Lyon?"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Two cities.", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "get_forecast", "input": null}
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "11 degrees"},
            {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
             "content": [{"type": "text", "text": "city not found"}]},
            {"type": "text", "text": "Thanks."}
        ]}
    ]}));
    assert_eq!(
        got[1],
        json!({"role": "assistant", "content": "Checking.", "thinking": "Two cities.", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"function": {"name": "get_forecast", "arguments": {}}}
        ]})
    );
    assert_eq!(
        got[2],
        json!({"role": "tool", "content": "11 degrees", "tool_name": "get_weather"})
    );
    assert_eq!(
        got[3],
        json!({"role": "tool", "content": "Error: city not found", "tool_name": "get_forecast"})
    );
    assert_eq!(got[4], json!({"role": "user", "content": "Thanks."}));
    assert_eq!(got.as_array().map(Vec::len), Some(5));
}

#[test]
fn a_tool_result_without_a_matching_tool_use_has_no_tool_name() {
    let got = messages(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_unknown", "is_error": true}
        ]}]}),
    );
    assert_eq!(got, json!([{"role": "tool", "content": "Error"}]));
}

#[test]
fn thinking_maps_to_think_only_when_the_client_said() {
    let think = |thinking: Value| {
        body(json!({"model": "m", "messages": [], "thinking": thinking}))
            .get("think")
            .cloned()
    };
    assert_eq!(
        think(json!({"type": "enabled", "budget_tokens": 2048})),
        Some(json!(true))
    );
    assert_eq!(think(json!({"type": "disabled"})), Some(json!(false)));
    assert_eq!(think(json!({"type": "adaptive"})), None);
    assert!(body(json!({"model": "m", "messages": []}))
        .get("think")
        .is_none());
}

#[test]
fn sampling_settings_go_to_options() {
    let got = body(
        json!({"model": "m", "messages": [], "max_tokens": 1024, "temperature": 0.2,
        "top_p": 0.9, "top_k": 40, "stop_sequences": ["\n\nHuman:"]}),
    );
    assert_eq!(
        got["options"],
        json!({"temperature": 0.2, "top_p": 0.9, "top_k": 40, "num_predict": 1024, "stop": ["\n\nHuman:"]})
    );
    assert!(body(json!({"model": "m", "messages": []}))
        .get("options")
        .is_none());
}

fn whole(body: &[u8]) -> crate::anthropic::MessagesResponse {
    Ollama
        .response(body, "qwen3:8b", "msg_01abc")
        .expect("translates")
}

#[test]
fn a_whole_text_response_becomes_one_text_block_with_usage() {
    let got = whole(include_bytes!(
        "../../tests/fixtures/ollama_whole_text.json"
    ));
    assert_eq!(got.id, "msg_01abc");
    assert_eq!(got.model, "qwen3:8b");
    assert_eq!(
        got.content,
        [ContentBlock::text("The answer to 1 + 1 is **2**.")]
    );
    assert_eq!(got.stop_reason, Some(StopReason::EndTurn));
    assert_eq!(
        got.usage,
        Usage {
            input_tokens: 19,
            output_tokens: 14,
            ..Usage::default()
        }
    );
}

#[test]
fn whole_tool_calls_get_deterministic_ids_and_stop_for_tool_use() {
    let got = whole(include_bytes!(
        "../../tests/fixtures/ollama_whole_tool_call.json"
    ));
    assert_eq!(
        got.content,
        [ContentBlock::ToolUse {
            id: "toolu_01abc_0".into(),
            name: "get_weather".into(),
            input: json!({"city": "Tokyo"}),
        }]
    );
    assert_eq!(got.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(got.usage.input_tokens, 169);
    assert_eq!(got.usage.output_tokens, 18);
}

#[test]
fn whole_thinking_comes_first_and_cached_tokens_are_split_out() {
    let got = whole(
        br#"{"model":"qwen3","message":{"role":"assistant","content":"3","thinking":"Count the r's.",
        "tool_calls":[{"function":{"name":"count","arguments":"{\"letter\":\"r\"}"}},{"function":{"arguments":{}}}]},
        "done":true,"done_reason":"stop","prompt_eval_count":100,"prompt_eval_cached_count":80,"eval_count":7}"#,
    );
    assert_eq!(
        got.content,
        [
            ContentBlock::Thinking {
                thinking: "Count the r's.".into(),
                signature: String::new()
            },
            ContentBlock::text("3"),
            ContentBlock::ToolUse {
                id: "toolu_01abc_0".into(),
                name: "count".into(),
                input: json!({"letter": "r"})
            },
        ]
    );
    assert_eq!(
        got.usage,
        Usage {
            input_tokens: 20,
            output_tokens: 7,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 80
        }
    );
}

#[test]
fn done_reason_length_is_max_tokens() {
    let got = whole(br#"{"message":{"role":"assistant","content":"cut"},"done":true,"done_reason":"length","eval_count":5}"#);
    assert_eq!(got.stop_reason, Some(StopReason::MaxTokens));
}

#[test]
fn an_error_body_or_junk_is_a_translate_error() {
    let error = Ollama.response(br#"{"error":"model \"nope\" not found"}"#, "m", "msg_1");
    assert_eq!(
        error.map(|_| ()).map_err(|e| e.0),
        Err("Ollama error: model \"nope\" not found".to_owned())
    );
    assert!(Ollama.response(b"<html>502</html>", "m", "msg_1").is_err());
}

#[test]
fn error_wording_maps_to_anthropic_error_types() {
    assert_eq!(error_kind("unauthorized"), "authentication_error");
    assert_eq!(
        error_kind("you've reached your hourly usage limit, please wait"),
        "rate_limit_error"
    );
    assert_eq!(error_kind("Too Many Requests"), "rate_limit_error");
    assert_eq!(error_kind("weekly quota exhausted"), "rate_limit_error");
    assert_eq!(
        error_kind("server overloaded, please retry shortly"),
        "overloaded_error"
    );
    assert_eq!(
        error_kind("invalid tool call arguments"),
        "invalid_request_error"
    );
    assert_eq!(
        error_kind("an error was encountered while running the model"),
        "api_error"
    );
    assert_eq!(
        error_kind("the model failed to generate a response"),
        "api_error"
    );
}

use serde_json::json;

use super::*;
use crate::anthropic::{Thinking, ToolChoice};
use crate::gemini::Gemini;
use crate::openai::OpenAiChat;
use crate::translate::Translator;

#[test]
fn a_tool_round_trip_becomes_tool_use_then_tool_results_in_one_user_turn() {
    let request = hub_json(fixture("chat_request_parallel_tools.json"));
    assert_eq!(
        request["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "text", "text": "What's the weather like in Edinburgh?"},
                {"type": "text", "text": "What's the price of AAPL?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_lQnnsesjFMWMQ5IeWPHzR4th", "name": "GetWeatherArgs",
                 "input": {"city": "Edinburgh", "country": "UK", "units": "c"}},
                {"type": "tool_use", "id": "call_2xjOUgaCdiwAcl9ZBL9LyMUU", "name": "get_stock_price",
                 "input": {"ticker": "AAPL", "exchange": "NASDAQ"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_lQnnsesjFMWMQ5IeWPHzR4th",
                 "content": "{\"temperature\": 11, \"units\": \"c\", \"sky\": \"overcast\"}"},
                {"type": "tool_result", "tool_use_id": "call_2xjOUgaCdiwAcl9ZBL9LyMUU",
                 "content": "{\"price\": 227.48, \"currency\": \"USD\"}"}]},
        ])
    );
    assert_eq!(request["tools"][1]["name"], "get_stock_price");
    assert_eq!(
        request["tools"][1]["description"],
        "Fetch the latest price for a given ticker"
    );
    assert_eq!(
        request["tools"][0]["input_schema"]["required"],
        json!(["city", "country", "units"])
    );
    assert_eq!(request["stream"], true);
    assert!(chat(fixture("chat_request_parallel_tools.json")).include_usage());
}

#[test]
fn the_tool_round_trip_reaches_openai_again_with_the_same_ids_and_arguments() {
    let request = hub(fixture("chat_request_parallel_tools.json"));
    let body = OpenAiChat.request(&request, "gpt-4o").unwrap().body;
    let messages = body["messages"].as_array().unwrap();
    let calls = &messages[1]["tool_calls"];
    assert_eq!(calls[0]["id"], "call_lQnnsesjFMWMQ5IeWPHzR4th");
    let arguments: Value =
        serde_json::from_str(calls[1]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"ticker": "AAPL", "exchange": "NASDAQ"}));
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[3]["tool_call_id"], "call_2xjOUgaCdiwAcl9ZBL9LyMUU");
}

#[test]
fn system_and_developer_messages_join_the_system_prompt_in_order() {
    let request = hub(json!({"model": "m", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
    ]}));
    assert_eq!(
        request.system_text().as_deref(),
        Some("Be brief.\n\nAnswer in French.")
    );
    assert_eq!(request.messages.len(), 1);
}

#[test]
fn images_by_url_and_data_url_become_image_blocks() {
    let request = hub_json(fixture("chat_request_vision.json"));
    let content = &request["messages"][0]["content"];
    assert_eq!(content[0]["type"], "text");
    assert_eq!(
        content[1]["source"],
        json!({"type": "url", "url": "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"})
    );
    assert_eq!(content[2]["source"]["type"], "base64");
    assert_eq!(content[2]["source"]["media_type"], "image/png");
    assert!(content[2]["source"]["data"]
        .as_str()
        .unwrap()
        .starts_with("iVBORw0KGgo"));
    assert_eq!(request["max_tokens"], 300);
}

#[test]
fn images_reach_gemini_inline_and_by_file_uri() {
    let request = hub(fixture("chat_request_vision.json"));
    let body = Gemini.request(&request, "gemini-2.5-flash").unwrap().body;
    let parts = &body["contents"][0]["parts"];
    assert_eq!(parts[1]["fileData"]["mimeType"], "image/jpeg");
    assert_eq!(parts[2]["inlineData"]["mimeType"], "image/png");
}

#[test]
fn audio_and_file_parts_are_refused_by_name() {
    let error = hub_error(
        json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}]}),
    );
    assert!(error.contains("messages[0]"), "{error}");
    assert!(error.contains("input_audio"), "{error}");
    let error = hub_error(
        json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png,raw"}}]}]}),
    );
    assert!(error.contains("base64"), "{error}");
}

#[test]
fn a_json_schema_becomes_an_instruction_and_the_hubs_output_format() {
    let request = hub(fixture("chat_request_json_schema.json"));
    let system = request.system_text().unwrap();
    assert!(
        system.starts_with("Extract the event information.\n\n"),
        "{system}"
    );
    assert!(system.contains("calendar_event"), "{system}");
    assert!(system.contains("\"participants\""), "{system}");
    let format = &request.output_config.as_ref().unwrap()["format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(
        format["schema"]["required"],
        json!(["name", "date", "participants"])
    );
}

#[test]
fn gemini_gets_its_json_mode_with_the_schema_in_its_subset() {
    let request = hub(fixture("chat_request_json_schema.json"));
    let body = Gemini.request(&request, "gemini-2.5-flash").unwrap().body;
    let config = &body["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(config["responseSchema"]["type"], "object");
    assert_eq!(
        config["responseSchema"]["properties"]["participants"]["items"]["type"],
        "string"
    );
    assert!(config["responseSchema"]
        .get("additionalProperties")
        .is_none());

    let object = hub(
        json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
        "response_format": {"type": "json_object"}}),
    );
    let body = Gemini.request(&object, "gemini-2.5-flash").unwrap().body;
    assert_eq!(
        body["generationConfig"]["responseMimeType"],
        "application/json"
    );
    assert!(body["generationConfig"].get("responseSchema").is_none());
    assert!(object.system_text().unwrap().contains("JSON object"));
}

#[test]
fn tool_choice_and_parallel_tool_calls_map_to_the_hubs_choice() {
    let tools = json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]);
    let choice = |choice: Value, parallel: Value| {
        hub(
            json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
            "tools": tools, "tool_choice": choice, "parallel_tool_calls": parallel}),
        )
        .tool_choice
    };
    assert_eq!(choice(json!("none"), Value::Null), Some(ToolChoice::None));
    assert_eq!(
        choice(json!("required"), json!(false)),
        Some(ToolChoice::Any {
            disable_parallel_tool_use: Some(true)
        })
    );
    assert_eq!(
        choice(
            json!({"type": "function", "function": {"name": "f"}}),
            Value::Null
        ),
        Some(ToolChoice::Tool {
            name: "f".into(),
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(
        choice(Value::Null, json!(false)),
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: Some(true)
        })
    );
    assert_eq!(
        choice(json!("auto"), Value::Null),
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: None
        })
    );
    // No tools: no choice (a choice without tools is an error upstream).
    let bare = hub(json!({"model": "m", "messages": [], "tool_choice": "required"}));
    assert_eq!(bare.tool_choice, None);
}

#[test]
fn sampling_limits_stop_user_and_reasoning_effort_carry_over() {
    let request = hub(
        json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 50, "max_completion_tokens": 400, "stop": "END", "temperature": 1.4,
        "top_p": 0.9, "user": "user-1234", "reasoning_effort": "medium", "seed": 7}),
    );
    assert_eq!(request.max_tokens, Some(400));
    assert_eq!(request.stop_sequences, Some(vec!["END".to_owned()]));
    assert_eq!((request.temperature, request.top_p), (Some(1.4), Some(0.9)));
    assert_eq!(request.metadata, Some(json!({"user_id": "user-1234"})));
    assert_eq!(
        request.thinking,
        Some(Thinking::Enabled {
            budget_tokens: 12_288
        })
    );
    let effort = |effort: &str| {
        let request = hub(
            json!({"model": "m", "messages": [{"role": "user", "content": "Hi"}],
            "reasoning_effort": effort}),
        );
        OpenAiChat.request(&request, "o4-mini").unwrap().body["reasoning_effort"].clone()
    };
    for level in ["low", "medium", "high"] {
        assert_eq!(effort(level), json!(level), "{level} survives a round trip");
    }
    let none = hub(json!({"model": "m", "messages": [], "reasoning_effort": "none"}));
    assert_eq!(none.thinking, Some(Thinking::Disabled));
}

#[test]
fn what_cannot_be_translated_is_refused_with_a_reason() {
    let error = hub_error(json!({"model": "m", "messages": [], "n": 2}));
    assert!(error.starts_with("n:"), "{error}");
    let error = hub_error(json!({"model": "m", "messages": [], "functions": [{"name": "f"}]}));
    assert!(error.contains("tools"), "{error}");
    let error = hub_error(json!({"model": "m", "messages": [{"role": "tool", "content": "x"}]}));
    assert!(error.contains("tool_call_id"), "{error}");
    let error = hub_error(json!({"model": "m", "messages": [],
        "tools": [{"type": "custom", "custom": {"name": "x"}}]}));
    assert!(error.contains("tools[0]"), "{error}");
}

#[test]
fn arguments_that_are_not_an_object_are_kept_raw() {
    let request = hub_json(json!({"model": "m", "messages": [
        {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "not json"}}]}]}));
    assert_eq!(
        request["messages"][0]["content"][0]["input"],
        json!({"raw_arguments": "not json"})
    );
}

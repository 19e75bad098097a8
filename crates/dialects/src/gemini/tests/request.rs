use serde_json::{json, Value};

use super::super::*;
use crate::anthropic::MessagesRequest;

pub(super) fn request(body: Value) -> MessagesRequest {
    serde_json::from_value(body).expect("a valid Messages request")
}

pub(super) fn body(req: Value, model: &str) -> Value {
    Gemini
        .request(&request(req), model)
        .expect("translates")
        .body
}

pub(super) fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

#[test]
fn paths_name_the_model_and_streams_ask_for_sse() {
    let plain = Gemini.request(
        &request(json!({"model": "x", "messages": [user("hi")]})),
        "gemini-2.5-flash",
    );
    let plain = plain.expect("translates");
    assert_eq!(
        plain.path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(plain.query, None);
    let streamed = Gemini
        .request(
            &request(json!({"model": "x", "stream": true, "messages": [user("hi")]})),
            "models/gemini-3-pro-preview",
        )
        .expect("translates");
    assert_eq!(
        streamed.path,
        "/v1beta/models/gemini-3-pro-preview:streamGenerateContent"
    );
    assert_eq!(streamed.query.as_deref(), Some("alt=sse"));
}

#[test]
fn model_names_that_would_change_the_path_and_empty_conversations_are_refused() {
    let req = request(json!({"model": "x", "messages": [user("hi")]}));
    assert!(Gemini.request(&req, "gemini/../x?key=1").is_err());
    assert!(Gemini.request(&req, "").is_err());
    let empty = request(json!({"model": "x", "messages": [{"role": "user", "content": ""}]}));
    assert!(Gemini.request(&empty, "gemini-2.5-flash").is_err());
}

#[test]
fn system_prompts_and_system_messages_become_the_system_instruction() {
    let b = body(
        json!({
            "model": "x",
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "Be brief."}],
            "messages": [
                {"role": "system", "content": "Today is Tuesday."},
                user("hi")
            ]
        }),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["systemInstruction"],
        json!({"parts": [{"text": "You are Claude Code."}, {"text": "Be brief."}, {"text": "Today is Tuesday."}]})
    );
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "hi"}]}])
    );
    let plain = body(
        json!({"model": "x", "system": "S", "messages": [user("hi")]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        plain["systemInstruction"],
        json!({"parts": [{"text": "S"}]})
    );
}

#[test]
fn roles_map_to_user_and_model_and_same_role_turns_merge() {
    let b = body(
        json!({"model": "x", "messages": [
            user("one"),
            user("two"),
            {"role": "assistant", "content": [{"type": "text", "text": "three"}, {"type": "text", "text": ""}]},
            {"role": "assistant", "content": "four"},
            user("five")
        ]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["contents"],
        json!([
            {"role": "user", "parts": [{"text": "one"}, {"text": "two"}]},
            {"role": "model", "parts": [{"text": "three"}, {"text": "four"}]},
            {"role": "user", "parts": [{"text": "five"}]}
        ])
    );
}

#[test]
fn images_go_inline_or_by_url() {
    let b = body(
        json!({"model": "x", "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.JPG?size=2"}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/render"}},
            {"type": "document", "source": {"type": "text", "data": "skipped"}},
            {"type": "text", "text": "What is this?"}
        ]}]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["contents"][0]["parts"],
        json!([
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=2"}},
            {"fileData": {"fileUri": "https://example.com/render"}},
            {"text": "What is this?"}
        ])
    );
}

#[test]
fn generation_settings_map_to_generation_config() {
    let b = body(
        json!({"model": "x", "messages": [user("hi")], "max_tokens": 32000, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
               "stop_sequences": ["a", "", "b", "c", "d", "e", "f"]}),
        "gemini-2.0-flash",
    );
    assert_eq!(
        b["generationConfig"],
        json!({"maxOutputTokens": 32000, "temperature": 0.5, "topP": 0.9, "topK": 40, "stopSequences": ["a", "b", "c", "d", "e"]})
    );
}

fn thinking(thinking: Value, model: &str) -> Value {
    body(
        json!({"model": "x", "messages": [user("hi")], "thinking": thinking}),
        model,
    )["generationConfig"]["thinkingConfig"]
        .clone()
}

#[test]
fn thinking_maps_to_a_budget_on_gemini_2_5_and_a_level_on_gemini_3() {
    let enabled = json!({"type": "enabled", "budget_tokens": 31999});
    assert_eq!(
        thinking(enabled.clone(), "gemini-2.5-flash"),
        json!({"thinkingBudget": 24576, "includeThoughts": true})
    );
    assert_eq!(
        thinking(enabled.clone(), "gemini-2.5-pro"),
        json!({"thinkingBudget": 31999, "includeThoughts": true})
    );
    assert_eq!(
        thinking(enabled.clone(), "gemini-3-pro-preview"),
        json!({"thinkingLevel": "high", "includeThoughts": true})
    );
    assert_eq!(
        thinking(
            json!({"type": "enabled", "budget_tokens": 4000}),
            "gemini-3-flash-preview"
        ),
        json!({"thinkingLevel": "low", "includeThoughts": true})
    );
    assert_eq!(
        thinking(
            json!({"type": "enabled", "budget_tokens": 100}),
            "gemini-2.5-flash-lite"
        ),
        json!({"thinkingBudget": 512, "includeThoughts": true})
    );
    assert_eq!(thinking(enabled, "gemini-2.0-flash"), Value::Null);
}

#[test]
fn disabled_thinking_is_a_zero_budget_only_where_the_model_allows_it() {
    let disabled = json!({"type": "disabled"});
    assert_eq!(
        thinking(disabled.clone(), "gemini-2.5-flash"),
        json!({"thinkingBudget": 0})
    );
    assert_eq!(thinking(disabled.clone(), "gemini-2.5-pro"), Value::Null);
    assert_eq!(
        thinking(disabled, "gemini-3-pro-preview"),
        json!({"thinkingLevel": "low"})
    );
    let none = body(
        json!({"model": "x", "messages": [user("hi")]}),
        "gemini-2.5-flash",
    );
    assert_eq!(none.get("generationConfig"), None);
}

#[test]
fn client_tools_become_function_declarations_and_server_tools_are_left_out() {
    let b = body(
        json!({"model": "x", "messages": [user("hi")], "tools": [
            {"name": "Read", "description": "Reads a file", "input_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
             "properties": {"file_path": {"type": "string"}}, "required": ["file_path"], "additionalProperties": false}},
            {"name": "EnterPlanMode", "input_schema": {"type": "object", "properties": {}}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5}
        ], "tool_choice": {"type": "auto"}}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["tools"],
        json!([{"functionDeclarations": [
            {"name": "Read", "description": "Reads a file", "parameters": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}},
            {"name": "EnterPlanMode"}
        ]}])
    );
    assert_eq!(
        b["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
}

#[test]
fn tool_choice_maps_to_function_calling_modes() {
    let config = |choice: Value| {
        body(json!({"model": "x", "messages": [user("hi")], "tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": choice}), "gemini-2.5-flash")["toolConfig"].clone()
    };
    assert_eq!(
        config(json!({"type": "any"})),
        json!({"functionCallingConfig": {"mode": "ANY"}})
    );
    assert_eq!(
        config(json!({"type": "tool", "name": "f"})),
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["f"]}})
    );
    assert_eq!(
        config(json!({"type": "none"})),
        json!({"functionCallingConfig": {"mode": "NONE"}})
    );
    // No tools, no toolConfig.
    let b = body(
        json!({"model": "x", "messages": [user("hi")], "tool_choice": {"type": "any"}}),
        "gemini-2.5-flash",
    );
    assert_eq!(b.get("toolConfig"), None);
}

#[test]
fn count_tokens_embeds_the_request_with_its_model() {
    let req = request(
        json!({"model": "x", "system": "S", "messages": [user("hi")], "max_tokens": 10,
        "tools": [{"name": "f", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}]}),
    );
    let count = count_tokens_request(&req, "gemini-2.5-flash").expect("translates");
    assert_eq!(count.path, "/v1beta/models/gemini-2.5-flash:countTokens");
    assert_eq!(count.query, None);
    assert_eq!(
        count.body,
        json!({"generateContentRequest": {
            "model": "models/gemini-2.5-flash",
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"parts": [{"text": "S"}]},
            "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}]}]
        }})
    );
    let documented =
        br#"{"totalTokens": 31,"promptTokensDetails": [{"modality": "TEXT","tokenCount": 31}]}"#;
    assert_eq!(count_tokens_response(documented), Ok(31));
    assert_eq!(count_tokens_response(b"{}"), Ok(0));
    assert!(count_tokens_response(
        br#"{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}"#
    )
    .is_err());
    assert!(count_tokens_response(b"not json").is_err());
}

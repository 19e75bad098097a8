use serde_json::json;

use super::*;
use crate::anthropic::{Thinking, ToolChoice};
use crate::gemini::Gemini;
use crate::openai::OpenAiChat;
use crate::translate::Translator;

#[test]
fn a_codex_request_becomes_one_system_prompt_and_alternating_turns() {
    let Translated {
        request,
        echo,
        dropped,
    } = translated(codex());
    let system = request.system_text().unwrap();
    assert!(
        system.starts_with("You are Codex, a coding agent"),
        "{system}"
    );
    let developer = system.find("<permissions instructions>").unwrap();
    assert!(
        developer > system.find("## Final answer").unwrap(),
        "instructions first, then developer messages"
    );
    let hub = serde_json::to_value(&request).unwrap();
    let roles: Vec<&str> = hub["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        [
            "user",
            "assistant",
            "user",
            "assistant",
            "user",
            "assistant",
            "user"
        ]
    );
    let turns = &hub["messages"];
    assert!(turns[0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("# AGENTS.md instructions"));
    assert!(turns[0]["content"][1]["text"]
        .as_str()
        .unwrap()
        .starts_with("<environment_context>"));
    assert!(turns[0]["content"][2]["text"]
        .as_str()
        .unwrap()
        .starts_with("The tide table parser"));
    // Two parallel calls in one turn, their outputs together in the next.
    assert_eq!(turns[1]["content"][0]["type"], "tool_use");
    assert_eq!(
        turns[1]["content"][0]["id"],
        "call_Qh3kT9ZpLr2vWx8yNc4mB7aD"
    );
    assert_eq!(turns[1]["content"][0]["name"], "shell_command");
    assert_eq!(
        turns[1]["content"][1]["input"]["command"],
        "sed -n '1,260p' src/tide/parse.rs"
    );
    assert_eq!(
        turns[2]["content"][0]["tool_use_id"],
        "call_Qh3kT9ZpLr2vWx8yNc4mB7aD"
    );
    assert_eq!(
        turns[2]["content"][1]["tool_use_id"],
        "call_U6sEo1GfJi5nKq0tHv3bRw9X"
    );
    assert!(turns[2]["content"][1]["content"]
        .as_str()
        .unwrap()
        .contains("for i in 1..lines.len() - 1"));
    // Assistant text and the namespaced call share a turn; reasoning items are gone.
    assert_eq!(turns[3]["content"][0]["type"], "text");
    assert_eq!(turns[3]["content"][1]["name"], "mcp__docs__search_docs");
    assert_eq!(turns[5]["content"][0]["name"], "apply_patch");
    assert!(turns[5]["content"][0]["input"]["input"]
        .as_str()
        .unwrap()
        .starts_with("*** Begin Patch\n"));
    assert_eq!(
        turns[6]["content"][0]["tool_use_id"],
        "call_Ym2Lc8PdXa4sFb7eTn1gKo6Z"
    );
    assert_eq!(
        turns[6]["content"][1]["text"],
        "Good. Also add the regression test and run the tide tests."
    );
    assert!(
        !hub.to_string().contains("encrypted"),
        "no reasoning item survives"
    );

    let names: Vec<&str> = hub["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "shell_command",
            "update_plan",
            "apply_patch",
            "view_image",
            "mcp__docs__search_docs",
            "mcp__docs__fetch_doc"
        ]
    );
    assert_eq!(hub["tool_choice"], json!({"type": "auto"}));
    assert_eq!(
        request.thinking,
        Some(Thinking::Enabled {
            budget_tokens: 12_288
        })
    );
    assert_eq!(request.stream, Some(true));
    assert_eq!(request.max_tokens, None);

    assert!(echo.summaries);
    assert!(echo.tools.get("apply_patch").unwrap().custom);
    let search = echo.tools.get("mcp__docs__search_docs").unwrap();
    assert_eq!(
        (search.name.as_str(), search.namespace.as_deref()),
        ("search_docs", Some("mcp__docs"))
    );
    assert_eq!(
        echo.fields["prompt_cache_key"],
        "0199a2f4-5c3e-7d21-9b8a-3f6e1c2d4a5b"
    );
    assert_eq!(echo.fields["store"], false);
    let noted = dropped.join("\n");
    assert!(noted.contains("\"web_search\""), "{noted}");
    assert!(noted.contains("input[4]: a reasoning item"), "{noted}");
    assert!(noted.contains("text.verbosity"), "{noted}");
}

#[test]
fn the_codex_request_reaches_gemini_and_openai_chat() {
    let request = translated(codex()).request;
    let gemini = Gemini.request(&request, "gemini-2.5-pro").unwrap().body;
    let declarations = &gemini["tools"][0]["functionDeclarations"];
    assert_eq!(declarations.as_array().unwrap().len(), 6);
    assert!(gemini["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("<permissions instructions>"));
    let chat = OpenAiChat.request(&request, "gpt-4.1").unwrap().body;
    let call = &chat["messages"][2]["tool_calls"][0];
    assert_eq!(call["id"], "call_Qh3kT9ZpLr2vWx8yNc4mB7aD");
    assert_eq!(call["function"]["name"], "shell_command");
}

#[test]
fn a_string_input_is_one_user_message() {
    let hub = hub_json(json!({"model": "m", "input": "Hello", "instructions": "Be terse."}));
    assert_eq!(
        hub["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Hello"}]}])
    );
    assert_eq!(hub["system"], "Be terse.");
}

#[test]
fn messages_keep_their_roles_text_and_images() {
    let hub = hub_json(json!({"model": "m", "input": [
        {"role": "system", "content": "Rule one."},
        {"role": "user", "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"},
            {"type": "input_image", "image_url": "https://example.com/a.jpg"}]},
        {"role": "assistant", "content": "A picture."},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Rule two."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Yes.", "annotations": []}]},
    ]}));
    assert_eq!(hub["system"], "Rule one.\n\nRule two.");
    let content = &hub["messages"][0]["content"];
    assert_eq!(
        content[1]["source"],
        json!({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="})
    );
    assert_eq!(
        content[2]["source"],
        json!({"type": "url", "url": "https://example.com/a.jpg"})
    );
    assert_eq!(
        hub["messages"][1],
        json!({"role": "assistant", "content": [
        {"type": "text", "text": "A picture."}, {"type": "text", "text": "Yes."}]})
    );
}

#[test]
fn a_function_call_round_trip_keeps_its_call_id() {
    let request = translated(json!({"model": "m", "input": [
        user("Weather in Paris?"),
        {"type": "function_call", "id": "fc_1", "call_id": "call_w1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}", "status": "completed"},
        {"type": "function_call_output", "call_id": "call_w1", "output": [
            {"type": "input_text", "text": "sunny"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]},
    ], "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]}))
    .request;
    let hub = serde_json::to_value(&request).unwrap();
    assert_eq!(
        hub["messages"][1]["content"][0],
        json!({"type": "tool_use", "id": "call_w1", "name": "get_weather", "input": {"city": "Paris"}})
    );
    let result = &hub["messages"][2]["content"][0];
    assert_eq!(result["tool_use_id"], "call_w1");
    assert_eq!(
        result["content"][0],
        json!({"type": "text", "text": "sunny"})
    );
    assert_eq!(result["content"][1]["type"], "image");
    let chat = OpenAiChat.request(&request, "gpt-4.1").unwrap().body;
    assert_eq!(chat["messages"][1]["tool_calls"][0]["id"], "call_w1");
    assert_eq!(chat["messages"][2]["tool_call_id"], "call_w1");
}

#[test]
fn reasoning_effort_is_a_thinking_budget_and_summary_says_whether_it_shows() {
    for (effort, thinking) in [
        (
            "minimal",
            Thinking::Enabled {
                budget_tokens: 1024,
            },
        ),
        (
            "low",
            Thinking::Enabled {
                budget_tokens: 4096,
            },
        ),
        (
            "high",
            Thinking::Enabled {
                budget_tokens: 32_768,
            },
        ),
        ("none", Thinking::Disabled),
    ] {
        let t = translated(json!({"model": "m", "input": "Hi", "reasoning": {"effort": effort}}));
        assert_eq!(t.request.thinking, Some(thinking), "{effort}");
        assert!(!t.echo.summaries, "no summary asked for");
    }
    let t = translated(json!({"model": "m", "input": "Hi", "reasoning": {"summary": "detailed"}}));
    assert_eq!((t.request.thinking, t.echo.summaries), (None, true));
    assert_eq!(
        t.echo.fields["reasoning"],
        json!({"effort": null, "summary": "detailed"})
    );
    assert!(
        refused(json!({"model": "m", "input": "Hi", "reasoning": {"effort": "extreme"}}))
            .contains("extreme")
    );
}

#[test]
fn a_json_schema_text_format_becomes_an_instruction_and_the_hubs_output_format() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": false});
    let t = translated(
        json!({"model": "m", "input": "Where?", "instructions": "Extract the city.",
        "text": {"format": {"type": "json_schema", "name": "place", "schema": schema, "strict": true}}}),
    );
    let system = t.request.system_text().unwrap();
    assert!(
        system.starts_with("Extract the city.\n\nRespond with one JSON value"),
        "{system}"
    );
    assert!(
        system.contains("(named \"place\")") && system.contains("\"required\":[\"city\"]"),
        "{system}"
    );
    assert_eq!(
        t.request.output_config,
        Some(json!({"format": {"type": "json_schema", "schema": schema}}))
    );
    assert_eq!(t.echo.fields["text"]["format"]["name"], "place");

    let t = translated(
        json!({"model": "m", "input": "Hi", "text": {"format": {"type": "json_object"}}}),
    );
    assert!(t.request.system_text().unwrap().contains("one JSON object"));
    let t = translated(json!({"model": "m", "input": "Hi", "text": {"format": {"type": "text"}}}));
    assert_eq!((t.request.system, t.request.output_config), (None, None));
    assert!(
        refused(json!({"model": "m", "input": "Hi", "text": {"format": {"type": "yaml"}}}))
            .starts_with("text.format")
    );
}

#[test]
fn sampling_limits_and_the_user_carry_over() {
    let hub = hub_json(
        json!({"model": "m", "input": "Hi", "max_output_tokens": 300, "temperature": 0.4,
        "top_p": 0.9, "user": "u-1", "metadata": {"ticket": "T-1"}, "store": true, "include": ["reasoning.encrypted_content"]}),
    );
    assert_eq!(
        (
            hub["max_tokens"].clone(),
            hub["temperature"].clone(),
            hub["top_p"].clone()
        ),
        (json!(300), json!(0.4), json!(0.9))
    );
    assert_eq!(
        hub["metadata"],
        json!({"user_id": "u-1"}),
        "metadata itself is only echoed"
    );
    let hub = hub_json(json!({"model": "m", "input": "Hi", "safety_identifier": "hashed-7"}));
    assert_eq!(hub["metadata"], json!({"user_id": "hashed-7"}));
}

#[test]
fn stored_state_is_refused_with_a_message_that_names_it() {
    for (field, value) in [
        ("previous_response_id", json!("resp_abc")),
        ("conversation", json!("conv_123")),
        ("background", json!(true)),
        ("prompt", json!({"id": "pmpt_1"})),
    ] {
        let mut request = json!({"model": "m", "input": "Hi"});
        request[field] = value;
        let error = refused(request);
        assert!(error.starts_with(&format!("{field}: ")), "{error}");
        assert!(
            error.contains("send the whole conversation in input"),
            "{error}"
        );
    }
    let error =
        refused(json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}));
    assert!(error.starts_with("input[0]: item_reference"), "{error}");
    // Asking for storage is fine: nothing is stored.
    translated(json!({"model": "m", "input": "Hi", "store": true, "background": false}));
}

#[test]
fn file_and_audio_inputs_are_refused_by_name() {
    let error = refused(json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_file", "file_id": "file-1"}]}]}));
    assert!(
        error.contains("input[0]: content[0]") && error.contains("input_file"),
        "{error}"
    );
    let error = refused(json!({"model": "m", "input": [{"role": "user", "content": [
        {"type": "input_image", "file_id": "file-2"}]}]}));
    assert!(error.contains("file_id"), "{error}");
    assert!(
        refused(json!({"model": "m", "input": [{"role": "tool", "content": "x"}]}))
            .contains("unknown role")
    );
    assert!(refused(
        json!({"model": "m", "input": [{"type": "function_call_output", "output": "x"}]})
    )
    .contains("call_id"));
}

#[test]
fn hosted_tool_items_in_the_history_are_dropped_in_pairs() {
    let t = translated(json!({"model": "m", "input": [
        user("Search it"),
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "q"}},
        {"type": "local_shell_call", "call_id": "ls_1", "status": "completed", "action": {"type": "exec", "command": ["ls"]}},
        {"type": "local_shell_call_output", "call_id": "ls_1", "output": "a\nb"},
        {"role": "assistant", "content": "Found it."},
    ]}));
    let hub = serde_json::to_value(&t.request).unwrap();
    assert_eq!(hub["messages"].as_array().unwrap().len(), 2);
    assert_eq!(t.dropped.len(), 3, "{:?}", t.dropped);
}

#[test]
fn the_echo_repeats_the_request_with_the_apis_defaults() {
    let echo = translated(json!({"model": "m", "input": "Hi"})).echo;
    assert_eq!(echo.fields["tool_choice"], "auto");
    assert_eq!(echo.fields["tools"], json!([]));
    assert_eq!(echo.fields["parallel_tool_calls"], true);
    assert_eq!(echo.fields["text"], json!({"format": {"type": "text"}}));
    assert_eq!(echo.fields["store"], true);
    assert_eq!(echo.fields["previous_response_id"], Value::Null);
    let with_choice = translated(json!({"model": "m", "input": "Hi", "tool_choice": "none",
        "tools": [{"type": "function", "name": "f"}]}));
    assert_eq!(with_choice.request.tool_choice, Some(ToolChoice::None));
    assert_eq!(with_choice.echo.fields["tool_choice"], "none");
}

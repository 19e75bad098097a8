use serde_json::json;

use super::*;
use crate::anthropic::ToolChoice;

fn function(name: &str) -> Value {
    json!({"type": "function", "name": name, "description": format!("The {name} tool"),
        "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}, "strict": true})
}

#[test]
fn hosted_tools_are_dropped_and_noted_never_refused() {
    let hosted = [
        json!({"type": "web_search"}),
        json!({"type": "web_search_preview", "search_context_size": "low"}),
        json!({"type": "file_search", "vector_store_ids": ["vs_1"]}),
        json!({"type": "code_interpreter", "container": {"type": "auto"}}),
        json!({"type": "local_shell"}),
        json!({"type": "mcp", "server_label": "wiki", "server_url": "https://wiki.example/mcp"}),
        json!({"type": "image_generation"}),
        json!({"type": "computer_use_preview", "display_width": 1024, "display_height": 768, "environment": "browser"}),
    ];
    let mut tools = vec![function("f")];
    tools.extend(hosted.iter().cloned());
    let t = translated(json!({"model": "m", "input": "Hi", "tools": tools}));
    let hub = serde_json::to_value(&t.request).unwrap();
    assert_eq!(
        hub["tools"],
        json!([{"name": "f", "description": "The f tool",
        "input_schema": {"type": "object", "properties": {"x": {"type": "string"}}}}])
    );
    assert_eq!(t.dropped.len(), hosted.len(), "{:?}", t.dropped);
    assert!(t.dropped[5].contains("\"mcp\""), "{:?}", t.dropped);

    let only_hosted = translated(
        json!({"model": "m", "input": "Hi", "tools": hosted, "tool_choice": "required"}),
    );
    assert_eq!(
        (only_hosted.request.tools, only_hosted.request.tool_choice),
        (None, None),
        "no tool choice without tools"
    );
}

#[test]
fn namespace_functions_are_flattened_and_read_back_by_name() {
    let t = translated(json!({"model": "m", "input": "Hi", "tools": [
        {"type": "namespace", "name": "crm", "description": "CRM tools", "tools": [
            function("lookup"),
            {"type": "custom", "name": "note", "description": "Free text note"},
            {"type": "web_search"}]}]}));
    let names: Vec<String> = t
        .request
        .tools
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["crm__lookup", "crm__note"]);
    let lookup = t.echo.tools.get("crm__lookup").unwrap();
    assert_eq!(
        (
            lookup.name.as_str(),
            lookup.namespace.as_deref(),
            lookup.custom
        ),
        ("lookup", Some("crm"), false)
    );
    assert!(t.echo.tools.get("crm__note").unwrap().custom);
    assert_eq!(t.dropped, ["tools[0].tools[2]: a \"web_search\" tool"]);
}

#[test]
fn a_custom_tool_is_a_function_of_one_input_string_with_its_grammar() {
    let t = translated(
        json!({"model": "m", "input": "Hi", "tools": [{"type": "custom", "name": "apply_patch",
        "description": "Edit files.", "format": {"type": "grammar", "syntax": "lark", "definition": "start: \"*** Begin Patch\""}}]}),
    );
    let tool = &t.request.tools.unwrap()[0];
    assert_eq!(
        tool.input_schema.as_ref().unwrap()["required"],
        json!(["input"])
    );
    let description = tool.description.as_deref().unwrap();
    assert!(description.starts_with("Edit files.\n\n"), "{description}");
    assert!(
        description.contains("lark grammar:\nstart: \"*** Begin Patch\""),
        "{description}"
    );
}

#[test]
fn tool_choice_maps_to_the_hubs() {
    let tools = json!([function("a"), function("b"), {"type": "custom", "name": "c"}]);
    let choice = |choice: Value| {
        translated(json!({"model": "m", "input": "Hi", "tools": tools, "tool_choice": choice}))
            .request
    };
    assert_eq!(
        choice(json!("required")).tool_choice,
        Some(ToolChoice::Any {
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(choice(json!("none")).tool_choice, Some(ToolChoice::None));
    assert_eq!(
        choice(json!({"type": "function", "name": "b"})).tool_choice,
        Some(ToolChoice::Tool {
            name: "b".into(),
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(
        choice(json!({"type": "custom", "name": "c"})).tool_choice,
        Some(ToolChoice::Tool {
            name: "c".into(),
            disable_parallel_tool_use: None
        })
    );
    // A hosted tool, or one not among the tools, leaves the choice to the model.
    assert_eq!(
        choice(json!({"type": "web_search_preview"})).tool_choice,
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(
        choice(json!({"type": "function", "name": "zz"})).tool_choice,
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: None
        })
    );

    let narrowed = choice(json!({"type": "allowed_tools", "mode": "required",
        "tools": [{"type": "function", "name": "b"}, {"type": "custom", "name": "c"}]}));
    let names: Vec<String> = narrowed
        .tools
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["b", "c"], "allowed_tools narrows the list");
    assert_eq!(
        narrowed.tool_choice,
        Some(ToolChoice::Any {
            disable_parallel_tool_use: None
        })
    );
    assert!(refused(
        json!({"model": "m", "input": "Hi", "tools": tools, "tool_choice": "sometimes"})
    )
    .contains("sometimes"));
}

#[test]
fn parallel_tool_calls_false_disables_parallel_use() {
    let t = translated(
        json!({"model": "m", "input": "Hi", "tools": [function("a")], "parallel_tool_calls": false}),
    );
    assert_eq!(
        t.request.tool_choice,
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: Some(true)
        })
    );
    assert_eq!(t.echo.fields["parallel_tool_calls"], false);
    let t = translated(
        json!({"model": "m", "input": "Hi", "tools": [function("a")], "parallel_tool_calls": false, "tool_choice": "required"}),
    );
    assert_eq!(
        t.request.tool_choice,
        Some(ToolChoice::Any {
            disable_parallel_tool_use: Some(true)
        })
    );
}

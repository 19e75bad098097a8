use serde_json::{json, Value};

use super::super::schema::parameters;

const ALLOWED: &[&str] = &[
    "type",
    "format",
    "description",
    "nullable",
    "enum",
    "properties",
    "required",
    "items",
    "anyOf",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
];

/// Walks a cleaned schema and fails on anything Gemini's `Schema` lacks.
fn assert_gemini_schema(node: &Value, path: &str) {
    let object = node
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    for key in object.keys() {
        assert!(
            ALLOWED.contains(&key.as_str()),
            "{path}: unsupported keyword {key}"
        );
    }
    if let Some(ty) = object.get("type") {
        let ty = ty
            .as_str()
            .unwrap_or_else(|| panic!("{path}: type is not a string"));
        assert!(
            ["string", "number", "integer", "boolean", "array", "object"].contains(&ty),
            "{path}: type {ty}"
        );
        if ty == "array" {
            assert!(object.contains_key("items"), "{path}: array without items");
        }
        if ty != "object" {
            assert!(
                !object.contains_key("properties"),
                "{path}: properties on {ty}"
            );
        }
    } else {
        assert!(
            object.contains_key("anyOf"),
            "{path}: neither type nor anyOf"
        );
    }
    if let Some(format) = object.get("format").and_then(Value::as_str) {
        assert!(
            ["enum", "date-time", "float", "double", "int32", "int64"].contains(&format),
            "{path}: format {format}"
        );
    }
    if let Some(values) = object.get("enum") {
        assert!(
            values
                .as_array()
                .is_some_and(|v| v.iter().all(Value::is_string)),
            "{path}: enum"
        );
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        assert!(!properties.is_empty(), "{path}: empty properties");
        for (name, schema) in properties {
            assert_gemini_schema(schema, &format!("{path}.{name}"));
        }
        for name in object
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert!(
                properties.contains_key(name.as_str().unwrap_or_default()),
                "{path}: required {name}"
            );
        }
    }
    if let Some(items) = object.get("items") {
        assert_gemini_schema(items, &format!("{path}[]"));
    }
    for (i, variant) in object
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        assert_gemini_schema(variant, &format!("{path}|{i}"));
    }
}

fn claude_code_tools() -> Vec<Value> {
    let text = include_str!("../../../tests/fixtures/gemini_claude_code_tools.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

fn tool_schema(name: &str) -> Value {
    claude_code_tools()
        .into_iter()
        .find(|t| t["name"] == name)
        .map(|t| t["input_schema"].clone())
        .unwrap_or_else(|| panic!("no tool {name}"))
}

#[test]
fn every_claude_code_tool_schema_cleans_to_gemini_keywords_only() {
    let tools = claude_code_tools();
    assert!(tools.len() >= 13);
    for tool in &tools {
        let name = tool["name"].as_str().unwrap_or_default();
        if let Some(cleaned) = parameters(Some(&tool["input_schema"])) {
            assert_eq!(cleaned["type"], "object", "{name}");
            assert_gemini_schema(&cleaned, name);
        }
    }
}

#[test]
fn todo_write_keeps_its_shape_without_json_schema_extras() {
    let cleaned = parameters(Some(&tool_schema("TodoWrite")));
    assert_eq!(
        cleaned,
        Some(json!({
            "type": "object",
            "properties": {
                "todos": {
                    "description": "The updated todo list",
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "content": {"type": "string", "minLength": 1},
                            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                            "activeForm": {"type": "string", "minLength": 1}
                        },
                        "required": ["content", "status", "activeForm"]
                    }
                }
            },
            "required": ["todos"]
        }))
    );
}

#[test]
fn edit_drops_defaults_and_bash_keeps_its_nested_object() {
    let edit = parameters(Some(&tool_schema("Edit"))).unwrap_or_default();
    assert_eq!(
        edit["properties"]["replace_all"],
        json!({"type": "boolean", "description": "Replace all occurences of old_string (default false)"})
    );
    let bash = parameters(Some(&tool_schema("Bash"))).unwrap_or_default();
    assert_eq!(bash["required"], json!(["command"]));
    assert_eq!(
        bash["properties"]["_simulatedSedEdit"]["required"],
        json!(["filePath", "newContent"])
    );
}

#[test]
fn unsupported_formats_and_exclusive_bounds_are_dropped() {
    let fetch = parameters(Some(&tool_schema("WebFetch"))).unwrap_or_default();
    assert_eq!(
        fetch["properties"]["url"],
        json!({"type": "string", "description": "The URL to fetch content from"})
    );
    let task = parameters(Some(&tool_schema("Task"))).unwrap_or_default();
    let max_turns = &task["properties"]["max_turns"];
    assert_eq!(max_turns["type"], "integer");
    assert_eq!(max_turns["maximum"], json!(9007199254740991_u64));
    assert!(max_turns.get("exclusiveMinimum").is_none());
    let output = parameters(Some(&tool_schema("TaskOutput"))).unwrap_or_default();
    assert_eq!(output["properties"]["timeout"]["minimum"], json!(0));
    assert!(output["properties"]["block"].get("default").is_none());
}

#[test]
fn maps_lose_their_value_schema_and_tools_without_arguments_have_no_parameters() {
    let ask = parameters(Some(&tool_schema("AskUserQuestion"))).unwrap_or_default();
    assert_eq!(
        ask["properties"]["answers"],
        json!({"type": "object", "description": "User answers collected by the permission component"})
    );
    assert_eq!(parameters(Some(&tool_schema("EnterPlanMode"))), None);
    assert_eq!(parameters(None), None);
}

#[test]
fn refs_are_inlined_and_cycles_end() {
    let schema = json!({
        "type": "object",
        "$defs": {
            "Point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}
        },
        "properties": {
            "at": {"$ref": "#/$defs/Point", "description": "where"},
            "list": {"$ref": "#/$defs/Node"},
            "lost": {"$ref": "#/definitions/Missing"}
        }
    });
    let cleaned = parameters(Some(&schema)).unwrap_or_default();
    assert_eq!(
        cleaned["properties"]["at"],
        json!({"type": "object", "description": "where", "properties": {"x": {"type": "number"}}, "required": ["x"]})
    );
    assert_eq!(cleaned["properties"]["lost"], json!({"type": "object"}));
    assert_gemini_schema(&cleaned, "root");
}

#[test]
fn null_unions_become_nullable_and_const_becomes_enum() {
    let schema = json!({
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "b"},
            "c": {"const": "fixed"},
            "d": {"anyOf": [{"type": "string"}, {"type": "array"}]},
            "e": {"type": "integer", "enum": [1, 2]},
            "f": {"enum": ["x", null]}
        },
        "required": ["a", "gone"]
    });
    let cleaned = parameters(Some(&schema)).unwrap_or_default();
    let p = &cleaned["properties"];
    assert_eq!(p["a"], json!({"type": "string", "nullable": true}));
    assert_eq!(
        p["b"],
        json!({"type": "integer", "description": "b", "nullable": true})
    );
    assert_eq!(p["c"], json!({"type": "string", "enum": ["fixed"]}));
    assert_eq!(
        p["d"],
        json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
    );
    assert_eq!(
        p["e"],
        json!({"type": "integer", "description": "Allowed values: 1, 2."})
    );
    assert_eq!(
        p["f"],
        json!({"type": "string", "enum": ["x"], "nullable": true})
    );
    assert_eq!(cleaned["required"], json!(["a"]));
    assert_gemini_schema(&cleaned, "root");
}

#[test]
fn all_of_members_are_merged_and_arrays_always_get_items() {
    let schema = json!({
        "allOf": [
            {"type": "object", "properties": {"a": {"type": "array"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string", "format": "date-time", "pattern": "^x"}}, "required": ["b"]}
        ]
    });
    let cleaned = parameters(Some(&schema)).unwrap_or_default();
    assert_eq!(
        cleaned,
        json!({
            "type": "object",
            "properties": {
                "a": {"type": "array", "items": {"type": "string"}},
                "b": {"type": "string", "format": "date-time"}
            },
            "required": ["a", "b"]
        })
    );
}

//! Random Messages requests as client bytes, for property tests: every
//! block type with fields present, absent, `null` or of the wrong type;
//! unknown blocks; strings with escapes, control characters, non-ASCII and
//! astral characters, written either as UTF-8 or as `\u` escapes (with
//! surrogate pairs); nested tool schemas; tool ids that carry Gemini ids.

use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// A request body and whether its strings were written with `\u` escapes.
pub(crate) fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
    (request(), any::<bool>()).prop_map(|(value, escape)| write(&value, escape))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{1,12}",
        "[\\x00-\\x1f\"\\\\/a]{1,6}",
        "[é✓中\u{1F600}\u{10FFFF}a\n\t]{1,6}",
        any::<String>(),
    ]
}

/// Tool ids: plain, and ones that carry a Gemini id and signature.
fn tool_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::from("toolu_01A")),
        Just(String::from("toolu_01B")),
        Just(String::from("toolu_gmAAAA_Y2FsbF8x")),
        "toolu_gm[A-Za-z0-9_-]{0,12}",
        text(),
    ]
}

fn cache_control() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(json!({"type": "ephemeral"}))),
        Just(Some(Value::Null)),
        Just(Some(json!(5))),
    ]
}

fn tool_input() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        json_value().prop_map(Some),
        (text(), text()).prop_map(|(k, v)| Some(json!({ k: v, "n": 1.5, "z": [1, {"b": true}] }))),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn image_source() -> impl Strategy<Value = Value> {
    prop_oneof![
        (text(), text()).prop_map(|(m, d)| json!({"type": "base64", "media_type": m, "data": d})),
        Just(json!({"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="})),
        text().prop_map(|u| json!({"type": "url", "url": format!("https://example.com/{u}.png")})),
        text().prop_map(|u| json!({"type": "url", "url": u})),
        Just(json!({"type": "url"})),
        Just(json!({"type": "file", "file_id": "file_1"})),
        Just(json!("not a source")),
    ]
}

fn leaf_block() -> impl Strategy<Value = Value> {
    prop_oneof![
        (text(), cache_control()).prop_map(|(t, c)| with(
            json!({"type": "text", "text": t}),
            "cache_control",
            c
        )),
        image_source().prop_map(|s| json!({"type": "image", "source": s})),
        (
            text(),
            prop_oneof![
                Just(None),
                text().prop_map(|s| Some(json!(s))),
                text().prop_map(|s| Some(json!(format!("gemini:{s}")))),
                Just(Some(Value::Null))
            ]
        )
            .prop_map(|(t, s)| with(
                json!({"type": "thinking", "thinking": t}),
                "signature",
                s
            )),
        text().prop_map(|d| json!({"type": "redacted_thinking", "data": d})),
        // Unknown and malformed blocks.
        Just(json!({"type": "document", "source": {"type": "text", "data": "x"}})),
        Just(json!({"type": "text"})),
        Just(json!({"type": "text", "text": 5})),
        Just(json!({"type": 5, "text": "x"})),
        Just(json!({"text": "no type"})),
        Just(json!(7)),
        Just(json!("a string block")),
        Just(json!(null)),
    ]
}

fn block() -> impl Strategy<Value = Value> {
    let result_content = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        text().prop_map(|t| Some(json!(t))),
        prop::collection::vec(leaf_block(), 0..4).prop_map(|b| Some(Value::Array(b))),
        Just(Some(json!(3))),
    ];
    let is_error = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<bool>().prop_map(|b| Some(json!(b))),
        Just(Some(json!("yes"))),
    ];
    prop_oneof![
        3 => leaf_block(),
        2 => (tool_id(), text(), tool_input())
            .prop_map(|(id, name, input)| with(json!({"type": "tool_use", "id": id, "name": name}), "input", input)),
        2 => (tool_id(), result_content, is_error).prop_map(|(id, content, is_error)| {
            with(
                with(json!({"type": "tool_result", "tool_use_id": id}), "content", content),
                "is_error",
                is_error,
            )
        }),
        1 => Just(json!({"type": "tool_use", "id": 1, "name": "x"})),
    ]
}

fn content() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        prop::collection::vec(block(), 0..5).prop_map(Value::Array),
    ]
}

fn message() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("user"), Just("assistant"), Just("system")],
        content(),
    )
        .prop_map(|(role, content)| json!({"role": role, "content": content}))
}

fn schema() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!({"type": "string", "description": "a path"})),
        Just(json!({"type": ["integer", "null"], "minimum": 1, "default": 3})),
        Just(json!({"type": "string", "enum": ["a", "b"], "format": "date-time"})),
        Just(json!({"const": "x"})),
        Just(json!(true)),
        Just(json!({"$ref": "#/$defs/item"})),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::btree_map("[a-z]{1,6}", inner.clone(), 0..4).prop_map(|p| {
                let required: Vec<&String> = p.keys().take(1).collect();
                json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
            }),
            inner.clone().prop_map(|i| json!({"type": "array", "items": i})),
            prop::collection::vec(inner, 1..3).prop_map(|a| json!({"anyOf": a})),
        ]
    })
}

fn tool() -> impl Strategy<Value = Value> {
    let input_schema = prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        schema().prop_map(|s| {
            let mut root = json!({"type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                "properties": {"it": s}, "$defs": {"item": {"type": "string"}}});
            root["required"] = json!(["it"]);
            Some(root)
        }),
        Just(Some(json!({"type": "object", "properties": {}}))),
    ];
    let description = prop_oneof![
        Just(None),
        Just(Some(json!(""))),
        text().prop_map(|t| Some(json!(t)))
    ];
    let kind = prop_oneof![
        4 => Just(None),
        1 => Just(Some(json!("custom"))),
        1 => Just(Some(json!("web_search_20250305"))),
        1 => Just(Some(Value::Null)),
    ];
    ("[A-Za-z_]{1,10}", description, input_schema, kind).prop_map(|(name, d, s, k)| {
        with(
            with(
                with(json!({"name": name}), "description", d),
                "input_schema",
                s,
            ),
            "type",
            k,
        )
    })
}

fn request() -> impl Strategy<Value = Value> {
    let system = prop_oneof![
        Just(None),
        text().prop_map(|t| Some(json!(t))),
        prop::collection::vec(block(), 0..3).prop_map(|b| Some(Value::Array(b))),
    ];
    let tool_choice = prop_oneof![
        Just(None),
        Just(Some(json!({"type": "auto"}))),
        Just(Some(
            json!({"type": "any", "disable_parallel_tool_use": true})
        )),
        Just(Some(json!({"type": "tool", "name": "Read"}))),
        Just(Some(json!({"type": "none"}))),
    ];
    let thinking = prop_oneof![
        Just(None),
        (0u32..40_000).prop_map(|b| Some(json!({"type": "enabled", "budget_tokens": b}))),
        Just(Some(json!({"type": "disabled"}))),
        Just(Some(json!({"type": "adaptive"}))),
    ];
    let numbers = (
        prop::option::of(1u32..64_000),
        prop::option::of(0.0f64..2.0),
        prop::option::of(0.0f64..1.0),
        prop::option::of(1u32..100),
        prop::option::of(any::<bool>()),
    );
    let stops = prop::option::of(prop::collection::vec(text(), 0..7));
    (
        prop::collection::vec(message(), 0..8),
        system,
        prop::collection::vec(tool(), 0..4),
        tool_choice,
        thinking,
        numbers,
        stops,
    )
        .prop_map(
            |(messages, system, tools, tool_choice, thinking, numbers, stops)| {
                let (max_tokens, temperature, top_p, top_k, stream) = numbers;
                let mut request = json!({"model": "claude-sonnet-4-5", "messages": messages});
                let fields = [
                    ("system", system),
                    ("tools", (!tools.is_empty()).then_some(Value::Array(tools))),
                    ("tool_choice", tool_choice),
                    ("thinking", thinking),
                    ("max_tokens", max_tokens.map(Value::from)),
                    ("temperature", temperature.map(Value::from)),
                    ("top_p", top_p.map(Value::from)),
                    ("top_k", top_k.map(Value::from)),
                    ("stream", stream.map(Value::from)),
                    ("stop_sequences", stops.map(|s| json!(s))),
                    ("metadata", Some(json!({"user_id": "user_1"}))),
                ];
                for (key, value) in fields {
                    request = with(request, key, value);
                }
                request
            },
        )
}

fn with(mut object: Value, key: &str, value: Option<Value>) -> Value {
    if let (Value::Object(map), Some(value)) = (&mut object, value) {
        map.insert(key.to_owned(), value);
    }
    object
}

/// `value` as JSON text; with `escape`, every non-ASCII character of every
/// string is written as `\u` escapes (astral ones as surrogate pairs).
fn write(value: &Value, escape: bool) -> Vec<u8> {
    let mut out = String::new();
    write_value(value, escape, &mut out);
    out.into_bytes()
}

fn write_value(value: &Value, escape: bool, out: &mut String) {
    match value {
        Value::String(text) => write_string(text, escape, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, escape, out);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, escape, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_object(map: &Map<String, Value>, escape: bool, out: &mut String) {
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(if escape { ", " } else { "," });
        }
        write_string(key, escape, out);
        out.push(':');
        write_value(item, escape, out);
    }
    out.push('}');
}

fn write_string(text: &str, escape: bool, out: &mut String) {
    if !escape {
        out.push_str(&Value::String(text.to_owned()).to_string());
        return;
    }
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            c if (c as u32) < 0x20 || !c.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

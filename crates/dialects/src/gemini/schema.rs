//! Tool input schemas (JSON Schema, as Claude Code and MCP servers write
//! them) cleaned to the OpenAPI 3.0 subset Gemini's
//! `FunctionDeclaration.parameters` accepts.
//!
//! Gemini answers 400 ("Unknown name …: Cannot find field") for any keyword
//! outside its `Schema` object, so this is a whitelist, not a blacklist: a
//! node keeps `type`, `format` (only the ones Gemini documents), `description`,
//! `nullable`, `enum`, `properties`, `required`, `items`, `anyOf` and the
//! numeric bounds, and everything else (`$schema`, `additionalProperties`,
//! `default`, `examples`, `exclusiveMinimum`, `propertyNames`, `pattern`,
//! `title`…) is dropped. What JSON Schema says differently is rewritten:
//! `$ref`/`allOf` are inlined, `["string","null"]` becomes `string` +
//! `nullable`, `const` a one-value `enum`, and every array gets `items`.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

/// Deeper schemas (or `$ref` cycles) end as a plain string field.
const MAX_DEPTH: usize = 24;

const TYPES: &[&str] = &["string", "number", "integer", "boolean", "array", "object"];

/// `parameters` for a tool's `input_schema`, or `None` when the tool takes
/// no arguments (Gemini rejects an OBJECT whose `properties` is empty).
pub(super) fn parameters(input_schema: Option<&Value>) -> Option<Value> {
    let schema = input_schema?;
    let cleaned = Cleaner { root: schema }.node(schema, 0);
    let has_properties =
        matches!(cleaned.get("properties"), Some(Value::Object(p)) if !p.is_empty());
    has_properties.then_some(Value::Object(cleaned))
}

/// `responseSchema` for a structured-output schema, or `None` when it
/// says no more than "an object" (Gemini refuses an OBJECT without
/// properties; JSON mode alone already asks for JSON).
pub(super) fn response_schema(schema: &Value) -> Option<Value> {
    let cleaned = Cleaner { root: schema }.node(schema, 0);
    let bare_object = cleaned.get("type") == Some(&json!("object"))
        && !matches!(cleaned.get("properties"), Some(Value::Object(p)) if !p.is_empty());
    (!bare_object).then_some(Value::Object(cleaned))
}

struct Cleaner<'a> {
    root: &'a Value,
}

impl Cleaner<'_> {
    fn node(&self, node: &Value, depth: usize) -> Map<String, Value> {
        let Some(object) = node.as_object() else {
            // `true` / `{}`-like schemas accept anything; a string is the closest Gemini type.
            return string_node();
        };
        if depth > MAX_DEPTH {
            return string_node();
        }
        if let Some(target) = object.get("$ref").and_then(Value::as_str) {
            let mut out = match self.resolve(target) {
                Some(definition) => self.node(definition, depth + 1),
                None => json_map(json!({"type": "object"})),
            };
            copy_description(object, &mut out);
            return out;
        }
        let merged = self.merge_all_of(object, depth);
        self.clean(&merged, depth)
    }

    fn clean(&self, node: &Map<String, Value>, depth: usize) -> Map<String, Value> {
        let mut nullable = node.get("nullable") == Some(&Value::Bool(true));
        let mut ty = match node.get("type") {
            Some(Value::String(t)) => Some(t.to_ascii_lowercase()),
            Some(Value::Array(types)) => {
                let names: Vec<String> = types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect();
                nullable |= names.iter().any(|t| t == "null");
                names.into_iter().find(|t| t != "null")
            }
            _ => None,
        };
        if ty.as_deref() == Some("null") {
            nullable = true;
            ty = None;
        }

        let mut variants = Vec::new();
        for key in ["anyOf", "oneOf"] {
            for variant in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if is_null_schema(variant) {
                    nullable = true;
                } else {
                    variants.push(self.node(variant, depth + 1));
                }
            }
        }
        if ty.is_none() && variants.len() == 1 {
            // `anyOf: [X, {type: null}]` is just a nullable X.
            let mut out = variants.remove(0);
            copy_description(node, &mut out);
            if nullable {
                out.insert("nullable".into(), Value::Bool(true));
            }
            return out;
        }

        let mut out = Map::new();
        copy_description(node, &mut out);
        let enum_values = enum_values(node, &mut nullable);
        let ty = if variants.is_empty() {
            let ty = ty
                .filter(|t| TYPES.contains(&t.as_str()))
                .unwrap_or_else(|| infer_type(node, !enum_values.is_empty()));
            self.typed(node, &ty, depth, &mut out);
            out.insert("type".into(), Value::String(ty.clone()));
            Some(ty)
        } else {
            out.insert(
                "anyOf".into(),
                Value::Array(variants.into_iter().map(Value::Object).collect()),
            );
            None
        };
        if ty.as_deref() == Some("string") && !enum_values.is_empty() {
            out.insert("enum".into(), Value::Array(enum_values));
        } else if !enum_values.is_empty() {
            // Gemini's enum is for strings only; keep the number type (the
            // client validates it) and tell the model the allowed values.
            describe_values(&mut out, &enum_values);
        }
        if nullable {
            out.insert("nullable".into(), Value::Bool(true));
        }
        out
    }

    /// The keywords that belong to one type.
    fn typed(
        &self,
        node: &Map<String, Value>,
        ty: &str,
        depth: usize,
        out: &mut Map<String, Value>,
    ) {
        if let Some(format) = node.get("format").and_then(Value::as_str) {
            let supported = match ty {
                "string" => ["enum", "date-time"].contains(&format),
                "number" => ["float", "double"].contains(&format),
                "integer" => ["int32", "int64"].contains(&format),
                _ => false,
            };
            if supported {
                out.insert("format".into(), Value::String(format.to_owned()));
            }
        }
        match ty {
            "object" => {
                let mut properties = Map::new();
                for (name, schema) in node
                    .get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    properties.insert(name.clone(), Value::Object(self.node(schema, depth + 1)));
                }
                let mut required: Vec<Value> = Vec::new();
                for name in node
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    // Gemini rejects a required name that is not a property.
                    if name.as_str().is_some_and(|n| properties.contains_key(n))
                        && !required.contains(name)
                    {
                        required.push(name.clone());
                    }
                }
                if !properties.is_empty() {
                    out.insert("properties".into(), Value::Object(properties));
                }
                if !required.is_empty() {
                    out.insert("required".into(), Value::Array(required));
                }
                copy_counts(node, out, &["minProperties", "maxProperties"]);
            }
            "array" => {
                let items = match node.get("items") {
                    Some(Value::Array(tuple)) => {
                        tuple.first().map(|first| self.node(first, depth + 1))
                    }
                    Some(items) => Some(self.node(items, depth + 1)),
                    None => None,
                };
                out.insert(
                    "items".into(),
                    Value::Object(items.unwrap_or_else(string_node)),
                );
                copy_counts(node, out, &["minItems", "maxItems"]);
            }
            "string" => copy_counts(node, out, &["minLength", "maxLength"]),
            "number" | "integer" => {
                for key in ["minimum", "maximum"] {
                    if let Some(bound) = node.get(key).filter(|v| v.is_number()) {
                        out.insert(key.into(), bound.clone());
                    }
                }
            }
            _ => {}
        }
    }

    /// The node with its `allOf` members folded in (properties and required
    /// lists joined, other keywords kept from the first that sets them);
    /// borrowed when it has none, since copying every node would copy each
    /// subtree once per level above it.
    fn merge_all_of<'n>(
        &self,
        node: &'n Map<String, Value>,
        depth: usize,
    ) -> Cow<'n, Map<String, Value>> {
        if !node.contains_key("allOf") {
            return Cow::Borrowed(node);
        }
        let mut merged = node.clone();
        let Some(Value::Array(members)) = merged.remove("allOf") else {
            return Cow::Owned(merged);
        };
        for member in &members {
            let member = match member.get("$ref").and_then(Value::as_str) {
                Some(target) if depth < MAX_DEPTH => self.resolve(target).unwrap_or(member),
                _ => member,
            };
            let Some(member) = member.as_object() else {
                continue;
            };
            for (key, value) in member {
                match (key.as_str(), merged.get_mut(key), value) {
                    ("properties", Some(Value::Object(mine)), Value::Object(theirs)) => {
                        for (name, schema) in theirs {
                            mine.entry(name.clone()).or_insert_with(|| schema.clone());
                        }
                    }
                    ("required", Some(Value::Array(mine)), Value::Array(theirs)) => {
                        mine.extend(theirs.iter().cloned())
                    }
                    (_, None, _) => {
                        merged.insert(key.clone(), value.clone());
                    }
                    _ => {}
                }
            }
        }
        Cow::Owned(merged)
    }

    /// `#/$defs/Name` or `#/definitions/Name` (JSON pointer, `~1`/`~0` escapes).
    fn resolve(&self, target: &str) -> Option<&Value> {
        let pointer = target.strip_prefix('#')?;
        self.root.pointer(pointer)
    }
}

fn string_node() -> Map<String, Value> {
    json_map(json!({"type": "string"}))
}

fn json_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn copy_description(from: &Map<String, Value>, to: &mut Map<String, Value>) {
    if let Some(description) = from.get("description").filter(|d| d.is_string()) {
        to.insert("description".into(), description.clone());
    }
}

/// Non-negative integer bounds only (Gemini reads them as int64).
fn copy_counts(from: &Map<String, Value>, to: &mut Map<String, Value>, keys: &[&str]) {
    for key in keys {
        if let Some(count) = from.get(*key).filter(|v| v.as_u64().is_some()) {
            to.insert((*key).to_owned(), count.clone());
        }
    }
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
        || schema.get("const") == Some(&Value::Null)
}

/// `enum` (or `const`) values as strings, Gemini's only enum type; a `null`
/// member makes the field nullable instead.
fn enum_values(node: &Map<String, Value>, nullable: &mut bool) -> Vec<Value> {
    let values: Vec<&Value> = match (node.get("enum"), node.get("const")) {
        (Some(Value::Array(values)), _) => values.iter().collect(),
        (_, Some(value)) => vec![value],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for value in values {
        let text = match value {
            Value::Null => {
                *nullable = true;
                continue;
            }
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !out.contains(&Value::String(text.clone())) {
            out.push(Value::String(text));
        }
    }
    out
}

fn describe_values(out: &mut Map<String, Value>, values: &[Value]) {
    let list: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    let note = format!("Allowed values: {}.", list.join(", "));
    let description = match out.get("description").and_then(Value::as_str) {
        Some(existing) => format!("{existing} ({note})"),
        None => note,
    };
    out.insert("description".into(), Value::String(description));
}

fn infer_type(node: &Map<String, Value>, has_enum: bool) -> String {
    let ty = if node.contains_key("properties") || node.contains_key("required") {
        "object"
    } else if node.contains_key("items") {
        "array"
    } else if has_enum {
        "string"
    } else if node.contains_key("minimum") || node.contains_key("maximum") {
        "number"
    } else {
        "string"
    };
    ty.to_owned()
}

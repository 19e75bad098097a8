//! Anthropic Messages request → Gemini `generateContent` request: paths,
//! `generationConfig` (with thinking and JSON mode), `tools` and `toolConfig`. The
//! conversation itself is written in `write.rs`; `generate` and
//! `count_tokens` here build the same bodies as values from the owned hub
//! request, the reference the written ones are tested against.

use serde_json::{json, Map, Value};

#[cfg(test)]
use super::contents;
use super::schema;
use crate::anthropic::{MessagesRequest, Thinking, ToolChoice};
#[cfg(test)]
use crate::translate::ProviderRequest;
use crate::translate::TranslateError;

/// Gemini accepts at most five stop sequences.
const MAX_STOP_SEQUENCES: usize = 5;

/// Claude Code's "think hard" budgets start around here; below it maps to `low`.
const HIGH_THINKING_BUDGET: u32 = 8192;

#[cfg(test)]
pub(super) fn generate(
    request: &MessagesRequest,
    model: &str,
) -> Result<ProviderRequest, TranslateError> {
    let model = model_name(model)?;
    let mut body = conversation_body(request)?;
    if let Some(config) = generation_config(request, model) {
        body.insert("generationConfig".into(), config);
    }
    if body.contains_key("tools") {
        if let Some(config) = tool_config(request.tool_choice.as_ref()) {
            body.insert("toolConfig".into(), config);
        }
    }
    let (method, query) = if request.is_stream() {
        ("streamGenerateContent", Some(String::from("alt=sse")))
    } else {
        ("generateContent", None)
    };
    Ok(ProviderRequest {
        path: format!("/v1beta/models/{model}:{method}"),
        query,
        body: Value::Object(body),
    })
}

#[cfg(test)]
pub(super) fn count_tokens(
    request: &MessagesRequest,
    model: &str,
) -> Result<ProviderRequest, TranslateError> {
    let model = model_name(model)?;
    let mut inner = conversation_body(request)?;
    // countTokens wants the model inside the embedded request too.
    inner.insert("model".into(), Value::String(format!("models/{model}")));
    Ok(ProviderRequest {
        path: format!("/v1beta/models/{model}:countTokens"),
        query: None,
        body: json!({ "generateContentRequest": inner }),
    })
}

/// `contents`, `systemInstruction` and `tools`.
#[cfg(test)]
fn conversation_body(request: &MessagesRequest) -> Result<Map<String, Value>, TranslateError> {
    let conversation = contents::conversation(request);
    if conversation.contents.is_empty() {
        return Err(TranslateError(String::from(
            "the request has no message content Gemini can take (messages are empty)",
        )));
    }
    let mut body = Map::new();
    body.insert("contents".into(), Value::Array(conversation.contents));
    if let Some(system) = conversation.system_instruction {
        body.insert("systemInstruction".into(), system);
    }
    if let Some(tools) = tools(request) {
        body.insert("tools".into(), tools);
    }
    Ok(body)
}

/// The model id for the path: `models/` dropped, and only characters a model
/// id has, so the name cannot change the path or add a query.
pub(super) fn model_name(model: &str) -> Result<&str, TranslateError> {
    let name = model.strip_prefix("models/").unwrap_or(model);
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if valid {
        Ok(name)
    } else {
        Err(TranslateError(format!(
            "invalid Gemini model name {model:?}"
        )))
    }
}

pub(super) fn generation_config(request: &MessagesRequest, model: &str) -> Option<Value> {
    let mut config = Map::new();
    if let Some(max) = request.max_tokens {
        config.insert("maxOutputTokens".into(), json!(max));
    }
    if let Some(stops) = &request.stop_sequences {
        let stops: Vec<&String> = stops
            .iter()
            .filter(|s| !s.is_empty())
            .take(MAX_STOP_SEQUENCES)
            .collect();
        if !stops.is_empty() {
            config.insert("stopSequences".into(), json!(stops));
        }
    }
    if let Some(t) = request.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if let Some(p) = request.top_p {
        config.insert("topP".into(), json!(p));
    }
    if let Some(k) = request.top_k {
        config.insert("topK".into(), json!(k));
    }
    if let Some(thinking) = thinking_config(request.thinking.as_ref(), model) {
        config.insert("thinkingConfig".into(), thinking);
    }
    add_json_mode(request, &mut config);
    (!config.is_empty()).then_some(Value::Object(config))
}

/// The hub's structured output (`output_config.format`, a JSON schema) as
/// Gemini's JSON mode: `responseMimeType` and, when the schema says more
/// than "an object", `responseSchema` in Gemini's subset.
fn add_json_mode(request: &MessagesRequest, config: &mut Map<String, Value>) {
    let format = request
        .output_config
        .as_ref()
        .and_then(|c| c.get("format"))
        .filter(|f| f.get("type").and_then(Value::as_str) == Some("json_schema"));
    let Some(format) = format else {
        return;
    };
    config.insert("responseMimeType".into(), json!("application/json"));
    if let Some(schema) = format.get("schema").and_then(schema::response_schema) {
        config.insert("responseSchema".into(), schema);
    }
}

/// How a model family takes a thinking setting.
enum ThinkingStyle {
    /// Gemini 1.x / 2.0: no thinking; sending a config is an error.
    None,
    /// Gemini 3: `thinkingLevel`; thinking cannot be turned off.
    Level,
    /// Gemini 2.5: `thinkingBudget` in `min..=max`; `0` turns it off where allowed.
    Budget {
        min: u32,
        max: u32,
        can_disable: bool,
    },
    /// A name keyrelay does not know: only ask for the thoughts to be shown.
    Unknown,
}

fn thinking_style(model: &str) -> ThinkingStyle {
    let name = model.to_ascii_lowercase();
    if name.starts_with("gemini-1") || name.starts_with("gemini-2.0") {
        ThinkingStyle::None
    } else if name.starts_with("gemini-3") {
        ThinkingStyle::Level
    } else if name.contains("2.5-pro") {
        ThinkingStyle::Budget {
            min: 128,
            max: 32768,
            can_disable: false,
        }
    } else if name.contains("2.5-flash-lite") {
        ThinkingStyle::Budget {
            min: 512,
            max: 24576,
            can_disable: true,
        }
    } else if name.contains("2.5-flash") {
        ThinkingStyle::Budget {
            min: 1,
            max: 24576,
            can_disable: true,
        }
    } else {
        ThinkingStyle::Unknown
    }
}

fn thinking_config(thinking: Option<&Thinking>, model: &str) -> Option<Value> {
    let thinking = thinking?;
    let config = match (thinking, thinking_style(model)) {
        (_, ThinkingStyle::None) => return None,
        (Thinking::Enabled { budget_tokens }, ThinkingStyle::Level) => {
            let level = if *budget_tokens >= HIGH_THINKING_BUDGET {
                "high"
            } else {
                "low"
            };
            json!({ "thinkingLevel": level, "includeThoughts": true })
        }
        // Gemini 3 cannot stop thinking; "low" is the least every variant takes.
        (Thinking::Disabled, ThinkingStyle::Level) => json!({ "thinkingLevel": "low" }),
        (Thinking::Other(_), ThinkingStyle::Level) => json!({ "includeThoughts": true }),
        (Thinking::Enabled { budget_tokens }, ThinkingStyle::Budget { min, max, .. }) => {
            // Out-of-range budgets are a 400, so clamp to the model's range.
            json!({ "thinkingBudget": (*budget_tokens).clamp(min, max), "includeThoughts": true })
        }
        (
            Thinking::Disabled,
            ThinkingStyle::Budget {
                can_disable: true, ..
            },
        ) => json!({ "thinkingBudget": 0 }),
        (
            Thinking::Disabled,
            ThinkingStyle::Budget {
                can_disable: false, ..
            },
        ) => return None,
        // Adaptive thinking: let the model choose (-1 is Gemini's dynamic budget).
        (Thinking::Other(_), ThinkingStyle::Budget { .. }) => {
            json!({ "thinkingBudget": -1, "includeThoughts": true })
        }
        (Thinking::Enabled { .. } | Thinking::Other(_), ThinkingStyle::Unknown) => {
            json!({ "includeThoughts": true })
        }
        (Thinking::Disabled, ThinkingStyle::Unknown) => return None,
    };
    Some(config)
}

/// Client tools as one `functionDeclarations` list; Anthropic server tools
/// (web search, code execution…) have no Gemini function form and are left out.
#[cfg(test)]
fn tools(request: &MessagesRequest) -> Option<Value> {
    let declarations: Vec<Value> = request
        .tools
        .iter()
        .flatten()
        .filter(|tool| matches!(tool.kind.as_deref(), None | Some("custom")))
        .map(|tool| {
            let mut declaration = Map::new();
            declaration.insert("name".into(), Value::String(tool.name.clone()));
            if let Some(description) = tool.description.as_ref().filter(|d| !d.is_empty()) {
                declaration.insert("description".into(), Value::String(description.clone()));
            }
            if let Some(parameters) = schema::parameters(tool.input_schema.as_ref()) {
                declaration.insert("parameters".into(), parameters);
            }
            Value::Object(declaration)
        })
        .collect();
    (!declarations.is_empty()).then(|| json!([{ "functionDeclarations": declarations }]))
}

pub(super) fn tool_config(choice: Option<&ToolChoice>) -> Option<Value> {
    let config = match choice? {
        ToolChoice::Auto { .. } => json!({ "mode": "AUTO" }),
        ToolChoice::Any { .. } => json!({ "mode": "ANY" }),
        ToolChoice::Tool { name, .. } => json!({ "mode": "ANY", "allowedFunctionNames": [name] }),
        ToolChoice::None => json!({ "mode": "NONE" }),
    };
    Some(json!({ "functionCallingConfig": config }))
}

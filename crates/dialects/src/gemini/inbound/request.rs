//! A `generateContent` request as the hub request (Anthropic Messages):
//! generation settings, thinking, JSON mode, tools and tool choice. The
//! conversation itself is built in `contents.rs`.

use serde_json::{json, Map, Value};

use super::contents::conversation;
use super::wire::{
    CountTokensRequest, FunctionCallingConfig, GenerateContentRequest, GenerationConfig,
    ThinkingConfig,
};
use crate::anthropic::{MessagesRequest, System, Thinking, Tool, ToolChoice};
use crate::translate::TranslateError;

/// Thinking budgets for Gemini 3's `thinkingLevel`, and for a dynamic
/// budget (`-1`, or thoughts asked for without a budget): the Chat front's
/// budgets for the same efforts.
const MINIMAL_BUDGET: u32 = 1024;
const LOW_BUDGET: u32 = 4096;
const MEDIUM_BUDGET: u32 = 12_288;
const HIGH_BUDGET: u32 = 32_768;

impl GenerateContentRequest {
    /// The hub request for the client's `model`; `stream` when the client
    /// called `streamGenerateContent`.
    pub fn to_messages(
        &self,
        model: &str,
        stream: bool,
    ) -> Result<MessagesRequest, TranslateError> {
        if self.cached_content.is_some() {
            return Err(TranslateError(String::from(
                "cachedContent: a Gemini context cache cannot be read by this provider; send the contents instead",
            )));
        }
        let conversation = conversation(self.system_instruction.as_ref(), &self.contents)?;
        let config = self.generation_config.clone().unwrap_or_default();
        if config.candidate_count.is_some_and(|n| n > 1) {
            return Err(TranslateError(String::from(
                "generationConfig.candidateCount: keyrelay translates one candidate per request for this provider",
            )));
        }
        let mut system: Vec<String> = conversation.system.into_iter().collect();
        let mut output_config = None;
        if let Some((instruction, format)) = json_mode(&config)? {
            system.push(instruction);
            output_config = Some(json!({ "format": format }));
        }
        let calling = self
            .tool_config
            .as_ref()
            .and_then(|c| c.function_calling_config.clone())
            .unwrap_or_default();
        let tools = self.hub_tools(&calling)?;
        let tool_choice = match &tools {
            Some(_) => tool_choice(&calling)?,
            None => None,
        };
        Ok(MessagesRequest {
            model: model.to_owned(),
            messages: conversation.messages,
            system: (!system.is_empty()).then(|| System::Text(system.join("\n\n"))),
            max_tokens: config.max_output_tokens,
            stop_sequences: config.stop_sequences.clone().filter(|s| !s.is_empty()),
            stream: Some(stream),
            temperature: config.temperature,
            top_p: config.top_p,
            top_k: config.top_k.filter(|k| *k >= 1.0).map(|k| k as u32),
            tools,
            tool_choice,
            thinking: config.thinking_config.as_ref().and_then(thinking),
            metadata: None,
            output_config,
        })
    }

    /// Function declarations as hub tools; with mode `ANY` and
    /// `allowedFunctionNames`, only those. Google's own tools are refused.
    fn hub_tools(
        &self,
        calling: &FunctionCallingConfig,
    ) -> Result<Option<Vec<Tool>>, TranslateError> {
        let allowed = match calling.mode.as_deref() {
            Some("ANY") => calling
                .allowed_function_names
                .as_ref()
                .filter(|n| !n.is_empty()),
            _ => None,
        };
        let mut out = Vec::new();
        for (n, tool) in self.tools.iter().flatten().enumerate() {
            if let Some(name) = tool.other.keys().next() {
                return Err(TranslateError(format!(
                    "tools[{n}]: Google's {name} tool has no counterpart at this provider; only functionDeclarations can be translated"
                )));
            }
            for declaration in tool.function_declarations.iter().flatten() {
                if allowed.is_some_and(|names| !names.contains(&declaration.name)) {
                    continue;
                }
                let schema = declaration
                    .parameters_json_schema
                    .clone()
                    .or_else(|| declaration.parameters.as_ref().map(json_schema))
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}}));
                out.push(Tool {
                    name: declaration.name.clone(),
                    description: declaration.description.clone().filter(|d| !d.is_empty()),
                    input_schema: Some(schema),
                    kind: None,
                });
            }
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

impl CountTokensRequest {
    /// The hub request whose input tokens are to be counted.
    pub fn to_messages(&self, model: &str) -> Result<MessagesRequest, TranslateError> {
        match &self.generate_content_request {
            Some(inner) => inner.to_messages(model, false),
            None => GenerateContentRequest {
                contents: self.contents.clone(),
                ..GenerateContentRequest::default()
            }
            .to_messages(model, false),
        }
    }
}

fn tool_choice(calling: &FunctionCallingConfig) -> Result<Option<ToolChoice>, TranslateError> {
    let choice = match calling.mode.as_deref() {
        None | Some("MODE_UNSPECIFIED") => return Ok(None),
        Some("AUTO" | "VALIDATED") => ToolChoice::Auto {
            disable_parallel_tool_use: None,
        },
        Some("NONE") => ToolChoice::None,
        Some("ANY") => match calling.allowed_function_names.as_deref() {
            Some([one]) => ToolChoice::Tool {
                name: one.clone(),
                disable_parallel_tool_use: None,
            },
            _ => ToolChoice::Any {
                disable_parallel_tool_use: None,
            },
        },
        Some(other) => {
            return Err(TranslateError(format!(
                "toolConfig.functionCallingConfig.mode: unknown value {other:?}"
            )))
        }
    };
    Ok(Some(choice))
}

/// JSON mode as an instruction for the system prompt and the hub's
/// `output_config.format` (see the Chat front, which does the same).
fn json_mode(config: &GenerationConfig) -> Result<Option<(String, Value)>, TranslateError> {
    match config.response_mime_type.as_deref() {
        None | Some("text/plain") | Some("") => Ok(None),
        Some("application/json") => {
            let schema = config
                .response_json_schema
                .clone()
                .or_else(|| config.response_schema.as_ref().map(json_schema));
            let Some(schema) = schema else {
                return Ok(Some((
                    String::from("Respond with JSON and nothing else: no prose, no Markdown code fences."),
                    json!({"type": "json_schema", "schema": {"type": "object"}}),
                )));
            };
            let instruction = format!(
                "Respond with one JSON value and nothing else (no prose, no Markdown code fences) that conforms to this JSON Schema:\n{schema}"
            );
            Ok(Some((instruction, json!({"type": "json_schema", "schema": schema}))))
        }
        Some(other) => Err(TranslateError(format!(
            "generationConfig.responseMimeType: {other:?} cannot be translated for this provider; use text/plain or application/json"
        ))),
    }
}

/// The hub's thinking setting: a budget as given (`0` turns thinking
/// off), a level or a dynamic budget as one of the Chat front's budgets.
/// Without a budget or level, thoughts asked for get the medium budget.
fn thinking(config: &ThinkingConfig) -> Option<Thinking> {
    let level_budget = |level: &str| match level.to_ascii_lowercase().as_str() {
        "minimal" => MINIMAL_BUDGET,
        "low" => LOW_BUDGET,
        "high" => HIGH_BUDGET,
        _ => MEDIUM_BUDGET,
    };
    let budget = match (config.thinking_budget, config.thinking_level.as_deref()) {
        (Some(0), _) => return Some(Thinking::Disabled),
        (Some(budget), _) if budget > 0 => u32::try_from(budget).unwrap_or(u32::MAX),
        (_, Some(level)) => level_budget(level),
        (Some(_), None) => MEDIUM_BUDGET,
        (None, None) if config.include_thoughts == Some(true) => MEDIUM_BUDGET,
        (None, None) => return None,
    };
    Some(Thinking::Enabled {
        budget_tokens: budget,
    })
}

/// Gemini's OpenAPI-subset schema as JSON Schema: type names in lower
/// case (`OBJECT` → `object`), `nullable` as a `null` type, Gemini's
/// `propertyOrdering` dropped.
pub(super) fn json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(node) => {
            let mut out = Map::with_capacity(node.len());
            let nullable = node.get("nullable") == Some(&Value::Bool(true));
            for (key, value) in node {
                match key.as_str() {
                    "nullable" | "propertyOrdering" | "property_ordering" => {}
                    "type" => {
                        let ty = value.as_str().map(str::to_ascii_lowercase);
                        let ty = match (ty, nullable) {
                            (Some(ty), true) => json!([ty, "null"]),
                            (Some(ty), false) => json!(ty),
                            (None, _) => value.clone(),
                        };
                        out.insert(key.clone(), ty);
                    }
                    "properties" | "$defs" | "definitions" => {
                        let properties = value
                            .as_object()
                            .map(|p| p.iter().map(|(k, v)| (k.clone(), json_schema(v))).collect())
                            .unwrap_or_default();
                        out.insert(key.clone(), Value::Object(properties));
                    }
                    "items" | "not" | "additionalProperties" => {
                        out.insert(key.clone(), json_schema(value));
                    }
                    "anyOf" | "oneOf" | "allOf" | "prefixItems" => {
                        let list = value
                            .as_array()
                            .map(|l| l.iter().map(json_schema).collect());
                        out.insert(
                            key.clone(),
                            list.map_or_else(|| value.clone(), Value::Array),
                        );
                    }
                    _ => {
                        out.insert(key.clone(), value.clone());
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

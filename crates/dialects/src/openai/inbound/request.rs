//! A Chat Completions request as a client sends it, and the hub request
//! (Anthropic Messages) it becomes.

use serde::Deserialize;
use serde_json::{json, Value};

use super::messages::{conversation, ChatMessage};
use crate::anthropic::{MessagesRequest, System, Thinking, Tool, ToolChoice};
use crate::translate::TranslateError;

/// Thinking budgets for `reasoning_effort`, chosen so the OpenAI translator
/// maps each back to the same effort (it splits at 8 000 and 24 000 tokens).
const MINIMAL_BUDGET: u32 = 1024;
const LOW_BUDGET: u32 = 4096;
const MEDIUM_BUDGET: u32 = 12_288;
const HIGH_BUDGET: u32 = 32_768;

/// `POST /v1/chat/completions` body: the fields keyrelay reads. Unknown
/// fields are ignored here (a native provider still gets them all).
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    pub model: String,
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Preferred over `max_tokens` (OpenAI's newer name, including reasoning).
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    #[serde(default)]
    pub stop: Option<Stop>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub tools: Option<Vec<ChatTool>>,
    /// `"none"`, `"auto"`, `"required"` or `{"type":"function","function":{"name":…}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub response_format: Option<Value>,
    /// `none`, `minimal`, `low`, `medium`, `high` (`xhigh` reads as `high`).
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub n: Option<u32>,
    /// The legacy form of `tools`; refused with a pointer to `tools`.
    #[serde(default)]
    pub functions: Option<Value>,
}

/// `stop`: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// `tools[]`: only `type: "function"` can be translated.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatTool {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub function: Option<FunctionDefinition>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunctionDefinition {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema; absent for a function without parameters.
    #[serde(default)]
    pub parameters: Option<Value>,
}

impl ChatRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether a stream should end with a usage chunk (`stream_options.include_usage`).
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }

    /// The hub request (see the module docs of `inbound` for what is kept).
    pub fn to_messages(&self) -> Result<MessagesRequest, TranslateError> {
        if self.n.is_some_and(|n| n > 1) {
            return Err(TranslateError(String::from(
                "n: keyrelay translates one choice per request (n = 1) for this provider",
            )));
        }
        if self.functions.is_some() {
            return Err(TranslateError(String::from(
                "functions: the legacy functions field is not supported; send tools instead",
            )));
        }
        let conversation = conversation(&self.messages)?;
        let mut system = conversation.system;
        let format = self
            .response_format
            .as_ref()
            .map(output_format)
            .transpose()?
            .flatten();
        let mut output_config = None;
        if let Some((instruction, format)) = format {
            system.push(instruction);
            output_config = Some(json!({ "format": format }));
        }
        let tools = self.hub_tools()?;
        let tool_choice = match &tools {
            Some(_) => self.hub_tool_choice()?,
            None => None,
        };
        Ok(MessagesRequest {
            model: self.model.clone(),
            messages: conversation.messages,
            system: (!system.is_empty()).then(|| System::Text(system.join("\n\n"))),
            max_tokens: self.max_completion_tokens.or(self.max_tokens),
            stop_sequences: self.stop.as_ref().map(|stop| match stop {
                Stop::One(one) => vec![one.clone()],
                Stop::Many(many) => many.clone(),
            }),
            stream: self.stream,
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: None,
            tools,
            tool_choice,
            thinking: self.reasoning_effort.as_deref().map(thinking).transpose()?,
            metadata: self.user.as_ref().map(|user| json!({ "user_id": user })),
            output_config,
        })
    }

    fn hub_tools(&self) -> Result<Option<Vec<Tool>>, TranslateError> {
        let Some(tools) = self.tools.as_ref().filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        let tools = tools
            .iter()
            .enumerate()
            .map(|(n, tool)| match (tool.kind.as_str(), &tool.function) {
                ("function", Some(function)) => Ok(Tool {
                    name: function.name.clone(),
                    description: function.description.clone(),
                    input_schema: Some(
                        function
                            .parameters
                            .clone()
                            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                    ),
                    kind: None,
                }),
                ("function", None) => Err(TranslateError(format!(
                    "tools[{n}]: a function tool needs its function object"
                ))),
                (other, _) => Err(TranslateError(format!(
                    "tools[{n}]: tool type {other:?} cannot be translated; only function tools can"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(tools))
    }

    fn hub_tool_choice(&self) -> Result<Option<ToolChoice>, TranslateError> {
        let disable = (self.parallel_tool_calls == Some(false)).then_some(true);
        let choice = match &self.tool_choice {
            None | Some(Value::Null) => {
                return Ok(disable.map(|_| ToolChoice::Auto {
                    disable_parallel_tool_use: disable,
                }))
            }
            Some(choice) => choice,
        };
        let mode = match choice {
            Value::String(mode) => mode.as_str(),
            // `allowed_tools` narrows the list; its mode is what survives.
            Value::Object(object) if object.get("type") == Some(&json!("allowed_tools")) => choice
                .pointer("/allowed_tools/mode")
                .and_then(Value::as_str)
                .unwrap_or("auto"),
            Value::Object(_) => {
                let name = choice
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        TranslateError(String::from(
                            "tool_choice: expected \"none\", \"auto\", \"required\" or {\"type\":\"function\",\"function\":{\"name\":…}}",
                        ))
                    })?;
                return Ok(Some(ToolChoice::Tool {
                    name: name.to_owned(),
                    disable_parallel_tool_use: disable,
                }));
            }
            _ => "",
        };
        match mode {
            "none" => Ok(Some(ToolChoice::None)),
            "auto" => Ok(Some(ToolChoice::Auto {
                disable_parallel_tool_use: disable,
            })),
            "required" => Ok(Some(ToolChoice::Any {
                disable_parallel_tool_use: disable,
            })),
            other => Err(TranslateError(format!(
                "tool_choice: unknown value {other:?}"
            ))),
        }
    }
}

/// `response_format` as an instruction for the system prompt and the hub's
/// `output_config.format`; `None` for plain text.
pub(crate) fn output_format(format: &Value) -> Result<Option<(String, Value)>, TranslateError> {
    match format.get("type").and_then(Value::as_str) {
        None | Some("text") => Ok(None),
        Some("json_object") => Ok(Some((
            String::from(
                "Respond with one JSON object and nothing else: no prose, no Markdown code fences.",
            ),
            json!({"type": "json_schema", "schema": {"type": "object"}}),
        ))),
        Some("json_schema") => {
            let spec = format.get("json_schema").ok_or_else(|| {
                TranslateError(String::from(
                    "response_format: json_schema needs its json_schema object",
                ))
            })?;
            let schema = spec
                .get("schema")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            let mut instruction = String::from(
                "Respond with one JSON value and nothing else (no prose, no Markdown code fences) that conforms to this JSON Schema",
            );
            if let Some(name) = spec.get("name").and_then(Value::as_str) {
                instruction.push_str(&format!(" (named {name:?})"));
            }
            if let Some(description) = spec.get("description").and_then(Value::as_str) {
                instruction.push_str(&format!(", described as: {description}"));
            }
            instruction.push_str(":\n");
            instruction.push_str(&schema.to_string());
            Ok(Some((
                instruction,
                json!({"type": "json_schema", "schema": schema}),
            )))
        }
        Some(other) => Err(TranslateError(format!(
            "response_format: type {other:?} is not one of text, json_object, json_schema"
        ))),
    }
}

/// The hub's thinking setting for a `reasoning_effort`.
pub(crate) fn thinking(effort: &str) -> Result<Thinking, TranslateError> {
    let budget = match effort {
        "none" => return Ok(Thinking::Disabled),
        "minimal" => MINIMAL_BUDGET,
        "low" => LOW_BUDGET,
        "medium" => MEDIUM_BUDGET,
        "high" | "xhigh" => HIGH_BUDGET,
        other => {
            return Err(TranslateError(format!(
                "reasoning_effort: unknown value {other:?}"
            )))
        }
    };
    Ok(Thinking::Enabled {
        budget_tokens: budget,
    })
}

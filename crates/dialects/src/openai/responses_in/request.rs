//! A Responses request as a client sends it, the hub request (Anthropic
//! Messages) it becomes, and what its answer echoes of it.

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::input::conversation;
use super::tools::{hub_tools, ClientTools};
use crate::anthropic::{MessagesRequest, System};
use crate::openai::inbound::{output_format, thinking};
use crate::translate::TranslateError;

/// `POST /v1/responses` body: the fields keyrelay reads. Unknown fields are
/// ignored here (a provider with its own `/responses` still gets them all).
#[derive(Debug, Clone, Deserialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// A string.
    #[serde(default)]
    pub instructions: Option<Value>,
    /// A string, or a list of items.
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    /// `{"effort": …, "summary": …}`.
    #[serde(default)]
    pub reasoning: Option<Value>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    /// `{"format": …, "verbosity": …}`.
    #[serde(default)]
    pub text: Option<Value>,
    #[serde(default)]
    pub include: Option<Vec<String>>,
    #[serde(default)]
    pub prompt_cache_key: Option<String>,
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub safety_identifier: Option<String>,
    #[serde(default)]
    pub truncation: Option<Value>,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    #[serde(default)]
    pub conversation: Option<Value>,
    #[serde(default)]
    pub background: Option<bool>,
    /// A stored prompt template (`{"id": "pmpt_…"}`).
    #[serde(default)]
    pub prompt: Option<Value>,
}

/// A Responses request through the hub.
#[derive(Debug, Clone)]
pub struct Translated {
    pub request: MessagesRequest,
    pub echo: RequestEcho,
    /// What the provider will not see, one note each (for a debug log).
    pub dropped: Vec<String>,
}

/// What a Responses answer takes from its request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestEcho {
    /// The request parameters a `response` object repeats (`instructions`,
    /// `tools`, `tool_choice`, `reasoning`…), with the API's defaults.
    pub fields: Map<String, Value>,
    /// Which hub tool names are namespaced or custom tools.
    pub tools: ClientTools,
    /// Whether reasoning is shown as summary text (`reasoning.summary`).
    pub summaries: bool,
}

impl ResponsesRequest {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The hub request (see the module docs of `responses_in`).
    pub fn to_messages(&self) -> Result<Translated, TranslateError> {
        self.refuse_stored_state()?;
        let tools = hub_tools(
            self.tools.as_deref(),
            self.tool_choice.as_ref(),
            self.parallel_tool_calls,
        )?;
        let conversation = conversation(self.input.as_ref())?;
        let mut dropped = tools.dropped;
        dropped.extend(conversation.dropped);
        let mut system = Vec::new();
        match &self.instructions {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) if text.is_empty() => {}
            Some(Value::String(text)) => system.push(text.clone()),
            Some(_) => {
                return Err(TranslateError(String::from(
                    "instructions: must be a string",
                )))
            }
        }
        system.extend(conversation.system);
        let mut output_config = None;
        if let Some((instruction, format)) = self.output_format()? {
            system.push(instruction);
            output_config = Some(json!({ "format": format }));
        }
        if self
            .text
            .as_ref()
            .is_some_and(|t| !t["verbosity"].is_null())
        {
            dropped.push(String::from("text.verbosity"));
        }
        let effort = self.reasoning_field("effort");
        let request = MessagesRequest {
            model: self.model.clone(),
            messages: conversation.messages,
            system: (!system.is_empty()).then(|| System::Text(system.join("\n\n"))),
            max_tokens: self.max_output_tokens,
            stop_sequences: None,
            stream: self.stream,
            temperature: self.temperature,
            top_p: self.top_p,
            top_k: None,
            tools: tools.tools,
            tool_choice: tools.tool_choice,
            thinking: effort.map(thinking).transpose()?,
            metadata: self
                .user
                .as_ref()
                .or(self.safety_identifier.as_ref())
                .map(|user| json!({ "user_id": user })),
            output_config,
        };
        let summary = self.reasoning_field("summary");
        Ok(Translated {
            request,
            echo: RequestEcho {
                fields: self.echoed_fields(),
                tools: tools.client,
                summaries: summary.is_some_and(|s| s != "none"),
            },
            dropped,
        })
    }

    /// What only the API that stored it could serve.
    fn refuse_stored_state(&self) -> Result<(), TranslateError> {
        let stored = if self.previous_response_id.is_some() {
            "previous_response_id"
        } else if self.conversation.as_ref().is_some_and(|c| !c.is_null()) {
            "conversation"
        } else if self.background == Some(true) {
            "background"
        } else if self.prompt.as_ref().is_some_and(|p| !p.is_null()) {
            "prompt"
        } else {
            return Ok(());
        };
        Err(TranslateError(format!(
            "{stored}: this provider has no stored responses, and keyrelay stores none (store: true is accepted, but nothing is kept); send the whole conversation in input"
        )))
    }

    /// `text.format` as an instruction and the hub's output format, through
    /// the Chat translator's `response_format` reading.
    fn output_format(&self) -> Result<Option<(String, Value)>, TranslateError> {
        let Some(format) = self.text.as_ref().map(|t| &t["format"]) else {
            return Ok(None);
        };
        let chat = match format["type"].as_str() {
            Some("json_schema") => {
                let mut spec = format.clone();
                if let Some(spec) = spec.as_object_mut() {
                    spec.remove("type");
                }
                json!({"type": "json_schema", "json_schema": spec})
            }
            _ => format.clone(),
        };
        output_format(&chat)
            .map_err(|e| TranslateError(e.0.replacen("response_format", "text.format", 1)))
    }

    fn reasoning_field(&self, key: &str) -> Option<&str> {
        self.reasoning.as_ref()?.get(key)?.as_str()
    }

    /// The parameters a `response` object repeats, as sent or the API's defaults.
    fn echoed_fields(&self) -> Map<String, Value> {
        let or = |value: Option<Value>, default: Value| value.unwrap_or(default);
        let mut fields = Map::new();
        let mut put = |key: &str, value: Value| {
            fields.insert(key.to_owned(), value);
        };
        put("instructions", or(self.instructions.clone(), Value::Null));
        put("max_output_tokens", json!(self.max_output_tokens));
        put("metadata", or(self.metadata.clone(), json!({})));
        put(
            "parallel_tool_calls",
            json!(self.parallel_tool_calls.unwrap_or(true)),
        );
        put("previous_response_id", Value::Null);
        put("prompt_cache_key", json!(self.prompt_cache_key));
        put(
            "reasoning",
            json!({"effort": self.reasoning_field("effort"), "summary": self.reasoning_field("summary")}),
        );
        put("safety_identifier", json!(self.safety_identifier));
        put("store", json!(self.store.unwrap_or(true)));
        put("temperature", json!(self.temperature));
        put(
            "text",
            or(self.text.clone(), json!({"format": {"type": "text"}})),
        );
        put("tool_choice", or(self.tool_choice.clone(), json!("auto")));
        put("tools", json!(self.tools.clone().unwrap_or_default()));
        put("top_p", json!(self.top_p));
        put("truncation", or(self.truncation.clone(), json!("disabled")));
        put("user", json!(self.user));
        fields
    }
}

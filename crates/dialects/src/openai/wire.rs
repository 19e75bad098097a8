//! OpenAI Chat Completions response and stream-chunk shapes, as read from
//! OpenAI and the servers that copy it (OpenRouter, DeepSeek, vLLM, LiteLLM,
//! Ollama, LM Studio). Everything is optional and fields whose type varies
//! between servers stay raw [`Value`]s, so one odd field never drops a chunk.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::anthropic::Usage;

/// A whole `chat.completion` body, or one `chat.completion.chunk` of a stream.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Completion {
    /// vLLM sends `"choices": null` on its usage-only chunk.
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// OpenAI / OpenRouter error object (also inside a 200 body or stream).
    #[serde(default)]
    pub error: Option<Value>,
    /// vLLM errors are `{"object":"error","message":…,"code":…}`.
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub code: Option<Value>,
}

impl Completion {
    /// The error this body carries, if any: a top-level `error` object, a
    /// vLLM-style `object: "error"` body, or an error on the first choice.
    pub fn error(&self) -> Option<Value> {
        if let Some(error) = self.error.as_ref().filter(|e| !e.is_null()) {
            return Some(error.clone());
        }
        if self.object.as_deref() == Some("error") {
            let mut error = serde_json::Map::new();
            if let Some(message) = &self.message {
                error.insert("message".into(), message.clone());
            }
            if let Some(code) = &self.code {
                error.insert("code".into(), code.clone());
            }
            return Some(Value::Object(error));
        }
        self.first_choice()
            .and_then(|c| c.error.clone())
            .filter(|e| !e.is_null())
    }

    /// Choice 0 (keyrelay never asks for `n > 1`; other choices are ignored).
    pub fn first_choice(&self) -> Option<&Choice> {
        self.choices.iter().find(|c| c.index.unwrap_or(0) == 0)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Choice {
    #[serde(default)]
    pub index: Option<u64>,
    /// Whole responses carry `message`, stream chunks `delta`; same shape.
    /// Separate fields, so a chunk that carries both still parses.
    #[serde(default)]
    pub message: Option<Body>,
    #[serde(default)]
    pub delta: Option<Body>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// OpenRouter may put the error object on the choice.
    #[serde(default)]
    pub error: Option<Value>,
}

impl Choice {
    /// The stream delta, else the message.
    pub fn body(&self) -> Option<&Body> {
        self.delta.as_ref().or(self.message.as_ref())
    }
}

/// A message (whole response) or a delta (stream chunk).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Body {
    /// A string, or (Mistral and some proxies) an array of `{type:"text",text}` parts.
    #[serde(default)]
    pub content: Option<Value>,
    /// DeepSeek, vLLM, xAI.
    #[serde(default)]
    pub reasoning_content: Option<Value>,
    /// OpenRouter, Ollama, Groq.
    #[serde(default)]
    pub reasoning: Option<Value>,
    /// OpenAI's refusal text (structured outputs).
    #[serde(default)]
    pub refusal: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_calls: Vec<ToolCall>,
}

impl Body {
    /// The reasoning text, whichever field the server used.
    pub fn reasoning_text(&self) -> String {
        let content = self
            .reasoning_content
            .as_ref()
            .map(text_of)
            .unwrap_or_default();
        if content.is_empty() {
            self.reasoning.as_ref().map(text_of).unwrap_or_default()
        } else {
            content
        }
    }

    pub fn content_text(&self) -> String {
        self.content.as_ref().map(text_of).unwrap_or_default()
    }

    pub fn refusal_text(&self) -> String {
        self.refusal.as_ref().map(text_of).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ToolCall {
    /// Stream chunks key a call's pieces by `index`; some servers omit it.
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<Function>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Function {
    #[serde(default)]
    pub name: Option<String>,
    /// A JSON string per the spec; a few proxies send the object itself.
    #[serde(default)]
    pub arguments: Option<Value>,
}

impl Function {
    /// The arguments as JSON text (an object sent as-is is serialised).
    pub fn arguments_text(&self) -> String {
        match &self.arguments {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptDetails>,
    /// DeepSeek's own name for the cached part of the prompt.
    #[serde(default)]
    pub prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct PromptDetails {
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

impl WireUsage {
    /// Anthropic usage: `prompt_tokens` includes cached tokens, Anthropic's
    /// `input_tokens` does not, so the cached part moves to `cache_read_input_tokens`.
    pub fn to_anthropic(&self) -> Usage {
        let prompt = self.prompt_tokens.unwrap_or(0);
        let cached = self
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens)
            .or(self.prompt_cache_hit_tokens)
            .unwrap_or(0)
            .min(prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: self.completion_tokens.unwrap_or(0),
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: cached,
        }
    }
}

/// Text from a string, or the concatenated `text` of an array of parts.
pub(super) fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|part| match part {
                Value::String(text) => Some(text.as_str()),
                other => other.get("text").and_then(Value::as_str),
            })
            .collect(),
        _ => String::new(),
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

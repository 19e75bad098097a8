//! Ollama `/api/chat` wire types (docs/api.md, "Generate a chat completion").
//!
//! Request types only serialise what keyrelay sends; response types read only
//! what keyrelay uses and ignore everything else (`created_at`, durations,
//! `images`, a tool call's `id` and `index`…), so new fields never break a parse.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `POST /api/chat` body.
#[derive(Debug, Serialize)]
pub(super) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<Message>,
    /// Always present: Ollama streams unless told `false`.
    pub stream: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// Absent when the client did not say, so the model keeps its default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub think: Option<bool>,
    /// Structured output: `"json"`, or a JSON schema the answer must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Options::is_empty")]
    pub options: Options,
}

/// One chat message; `role` is `system`, `user`, `assistant` or `tool`.
#[derive(Debug, Default, Serialize)]
pub(super) struct Message {
    pub role: &'static str,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    /// Bare base64, no data-URL prefix and no media type.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// On `tool` messages: which tool produced this result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
}

impl Message {
    pub fn text(role: &'static str, content: String) -> Self {
        Message {
            role,
            content,
            ..Message::default()
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct ToolCall {
    pub function: FunctionCall,
}

/// `arguments` is a JSON object on this API, not a string as in OpenAI's.
#[derive(Debug, Serialize)]
pub(super) struct FunctionCall {
    pub name: String,
    pub arguments: Value,
}

#[derive(Debug, Serialize)]
pub(super) struct Tool {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionSpec,
}

#[derive(Debug, Serialize)]
pub(super) struct FunctionSpec {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub parameters: Value,
}

/// The Modelfile parameters keyrelay maps (docs/modelfile.md).
#[derive(Debug, Default, Serialize)]
pub(super) struct Options {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_predict: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
}

impl Options {
    fn is_empty(&self) -> bool {
        self.temperature.is_none()
            && self.top_p.is_none()
            && self.top_k.is_none()
            && self.num_predict.is_none()
            && self.stop.is_none()
    }
}

/// A whole response, or one line of a streamed one: the shapes are the same,
/// and only the last line (`done: true`) carries `done_reason` and the counts.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ChatChunk {
    #[serde(default)]
    pub message: Option<ResponseMessage>,
    #[serde(default)]
    pub done: bool,
    #[serde(default)]
    pub done_reason: Option<String>,
    /// All prompt tokens, cached ones included (ollama#17943).
    #[serde(default, deserialize_with = "lenient_count")]
    pub prompt_eval_count: Option<u64>,
    /// Prompt tokens read from the cache; newer servers and Cloud only.
    #[serde(default, deserialize_with = "lenient_count")]
    pub prompt_eval_cached_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub eval_count: Option<u64>,
    /// A string per docs/api/errors.mdx; kept raw in case a proxy sends an object.
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseToolCall {
    #[serde(default)]
    pub function: Option<ResponseFunction>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ResponseFunction {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub arguments: Value,
}

/// A count that is not a non-negative integer reads as absent rather than
/// failing the whole line (which would lose the `done` flag with it).
fn lenient_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(Value::deserialize(deserializer)?.as_u64())
}

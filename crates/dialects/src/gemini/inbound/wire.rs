//! A `generateContent` request as Gemini clients send it (Gemini CLI, the
//! google-genai SDKs, curl): the fields keyrelay reads. Google's JSON
//! accepts each field in lowerCamelCase or in the proto's snake_case (the
//! docs' curl examples mix both), so both are read. Unknown fields are
//! ignored (a Gemini provider still gets the client's bytes).

use serde::Deserialize;
use serde_json::Value;

/// `POST /v1beta/models/{model}:generateContent` (and `:streamGenerateContent`) body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GenerateContentRequest {
    pub contents: Vec<Content>,
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<Content>,
    pub tools: Option<Vec<Tool>>,
    #[serde(alias = "tool_config")]
    pub tool_config: Option<ToolConfig>,
    #[serde(alias = "generation_config")]
    pub generation_config: Option<GenerationConfig>,
    /// A cache of earlier content held by Google: nothing another provider can read.
    #[serde(alias = "cached_content")]
    pub cached_content: Option<String>,
}

/// One turn: `role` is `user` or `model` (absent means `user`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Content {
    pub role: Option<String>,
    pub parts: Vec<Part>,
}

/// One part; exactly one payload is expected, the others absent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Part {
    pub text: Option<String>,
    pub thought: Option<bool>,
    #[serde(alias = "inline_data")]
    pub inline_data: Option<Blob>,
    #[serde(alias = "file_data")]
    pub file_data: Option<FileData>,
    #[serde(alias = "function_call")]
    pub function_call: Option<FunctionCall>,
    #[serde(alias = "function_response")]
    pub function_response: Option<FunctionResponse>,
    #[serde(alias = "executable_code")]
    pub executable_code: Option<Value>,
    #[serde(alias = "code_execution_result")]
    pub code_execution_result: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Blob {
    #[serde(alias = "mime_type")]
    pub mime_type: String,
    /// Base64.
    pub data: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FileData {
    #[serde(alias = "mime_type")]
    pub mime_type: Option<String>,
    #[serde(alias = "file_uri")]
    pub file_uri: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FunctionCall {
    /// Set by Gemini 2.5+ and by clients that number their calls.
    pub id: Option<String>,
    pub name: String,
    pub args: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FunctionResponse {
    pub id: Option<String>,
    pub name: String,
    /// A JSON object: by convention `{"output": …}` or `{"error": …}`.
    pub response: Option<Value>,
}

/// `tools[]`: function declarations, or one of Google's own tools.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Tool {
    #[serde(alias = "function_declarations")]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    /// Google's own tools (`googleSearch`, `codeExecution`, `urlContext`…),
    /// by name: no other provider has them.
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FunctionDeclaration {
    pub name: String,
    pub description: Option<String>,
    /// Gemini's OpenAPI subset (`type: "OBJECT"`…).
    pub parameters: Option<Value>,
    /// Plain JSON Schema (what Gemini CLI sends).
    #[serde(alias = "parameters_json_schema")]
    pub parameters_json_schema: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ToolConfig {
    #[serde(alias = "function_calling_config")]
    pub function_calling_config: Option<FunctionCallingConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FunctionCallingConfig {
    /// `AUTO`, `ANY`, `NONE` or `VALIDATED`.
    pub mode: Option<String>,
    #[serde(alias = "allowed_function_names")]
    pub allowed_function_names: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GenerationConfig {
    #[serde(alias = "max_output_tokens")]
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    #[serde(alias = "top_p")]
    pub top_p: Option<f64>,
    /// An integer on the wire, though the Python SDK types it as a float.
    #[serde(alias = "top_k")]
    pub top_k: Option<f64>,
    #[serde(alias = "stop_sequences")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(alias = "candidate_count")]
    pub candidate_count: Option<u32>,
    #[serde(alias = "response_mime_type")]
    pub response_mime_type: Option<String>,
    /// Gemini's OpenAPI subset.
    #[serde(alias = "response_schema")]
    pub response_schema: Option<Value>,
    /// Plain JSON Schema.
    #[serde(alias = "response_json_schema")]
    pub response_json_schema: Option<Value>,
    #[serde(alias = "thinking_config")]
    pub thinking_config: Option<ThinkingConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThinkingConfig {
    /// Tokens; `0` turns thinking off, `-1` lets the model choose.
    #[serde(alias = "thinking_budget")]
    pub thinking_budget: Option<i64>,
    /// Gemini 3: `minimal`, `low`, `medium`, `high`.
    #[serde(alias = "thinking_level")]
    pub thinking_level: Option<String>,
    #[serde(alias = "include_thoughts")]
    pub include_thoughts: Option<bool>,
}

/// `:countTokens` body: `contents` alone, or a whole `generateContentRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CountTokensRequest {
    pub contents: Vec<Content>,
    #[serde(alias = "generate_content_request")]
    pub generate_content_request: Option<GenerateContentRequest>,
}

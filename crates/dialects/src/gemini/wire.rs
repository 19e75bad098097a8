//! Gemini `GenerateContentResponse` wire types (the fields keyrelay reads) and
//! the mappings to Anthropic stop reasons, usage and error types.
//!
//! Every field is optional and unknown fields are ignored, so a new Gemini
//! field never breaks a response or a stream.

use serde::Deserialize;
use serde_json::Value;

use crate::anthropic::{ErrorKind, StopReason, Usage};

/// One `generateContent` response, or one `streamGenerateContent` chunk.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct GenerateContentResponse {
    pub candidates: Option<Vec<Candidate>>,
    pub prompt_feedback: Option<PromptFeedback>,
    pub usage_metadata: Option<UsageMetadata>,
    /// Google's error envelope, when a stream breaks off (or a 200 body is an error).
    pub error: Option<ApiError>,
}

impl GenerateContentResponse {
    /// The first candidate: keyrelay never asks for more than one.
    pub fn first_candidate(&self) -> Option<&Candidate> {
        self.candidates.as_ref()?.first()
    }

    /// `promptFeedback.blockReason`, set when the prompt itself was blocked.
    pub fn block_reason(&self) -> Option<&str> {
        self.prompt_feedback.as_ref()?.block_reason.as_deref()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Candidate {
    pub content: Option<Content>,
    pub finish_reason: Option<String>,
}

impl Candidate {
    pub fn parts(&self) -> &[Part] {
        self.content
            .as_ref()
            .and_then(|c| c.parts.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Content {
    pub parts: Option<Vec<Part>>,
}

/// A content part. Only the kinds keyrelay translates are read; the others
/// (inline images, executable code…) deserialise as an empty part and are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Part {
    pub text: Option<String>,
    pub thought: Option<bool>,
    /// Sits beside the part's payload (not inside `functionCall`).
    pub thought_signature: Option<String>,
    pub function_call: Option<FunctionCall>,
}

impl Part {
    pub fn is_thought(&self) -> bool {
        self.thought.unwrap_or(false)
    }

    pub fn signature(&self) -> Option<&str> {
        self.thought_signature.as_deref().filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct FunctionCall {
    pub name: String,
    pub args: Option<Value>,
    /// Set by newer models; sent back on the call and its response.
    pub id: Option<String>,
}

impl FunctionCall {
    /// The arguments as a JSON object text (`{}` when absent).
    pub fn args_json(&self) -> String {
        match &self.args {
            Some(args @ Value::Object(_)) => args.to_string(),
            _ => String::from("{}"),
        }
    }

    pub fn args_value(&self) -> Value {
        match &self.args {
            Some(args @ Value::Object(_)) => args.clone(),
            _ => Value::Object(Default::default()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct PromptFeedback {
    pub block_reason: Option<String>,
}

/// Token counts. In a stream they are cumulative: the last chunk's win.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct UsageMetadata {
    pub prompt_token_count: Option<u64>,
    pub cached_content_token_count: Option<u64>,
    pub candidates_token_count: Option<u64>,
    pub thoughts_token_count: Option<u64>,
}

impl UsageMetadata {
    /// Anthropic semantics: `input_tokens` excludes the cache reads, and
    /// thinking is billed as output.
    pub fn to_usage(&self) -> Usage {
        let prompt = self.prompt_token_count.unwrap_or(0);
        let cached = self.cached_content_token_count.unwrap_or(0).min(prompt);
        Usage {
            input_tokens: prompt - cached,
            output_tokens: self.candidates_token_count.unwrap_or(0)
                + self.thoughts_token_count.unwrap_or(0),
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: cached,
        }
    }

    /// Whether the chunk carried any count at all (Vertex sends
    /// `{"trafficType": …}` alone on intermediate chunks).
    pub fn has_counts(&self) -> bool {
        self.prompt_token_count.is_some()
            || self.candidates_token_count.is_some()
            || self.thoughts_token_count.is_some()
            || self.cached_content_token_count.is_some()
    }
}

/// Google's `{"error": {"code", "message", "status"}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ApiError {
    pub code: Option<Value>,
    pub message: Option<String>,
    pub status: Option<String>,
}

impl ApiError {
    /// The Anthropic error type for this Google status.
    pub fn anthropic_kind(&self) -> &'static str {
        let code = match &self.code {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        match self.status.as_deref().unwrap_or("") {
            "RESOURCE_EXHAUSTED" => "rate_limit_error",
            "UNAVAILABLE" => "overloaded_error",
            "UNAUTHENTICATED" | "PERMISSION_DENIED" => "authentication_error",
            "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "NOT_FOUND" => "invalid_request_error",
            _ => code
                .and_then(|c| u16::try_from(c).ok())
                .filter(|c| (400..=599).contains(c))
                .map_or("api_error", |c| ErrorKind::for_status(c).as_str()),
        }
    }

    pub fn text(&self) -> String {
        match (&self.message, &self.status) {
            (Some(message), _) => message.clone(),
            (None, Some(status)) => status.clone(),
            (None, None) => String::from("Gemini returned an error"),
        }
    }
}

/// Gemini finish reasons that mean the output was withheld by a filter.
const REFUSALS: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

/// The Anthropic stop reason for a Gemini `finishReason`. Gemini says `STOP`
/// after function calls too, so any non-refusal, non-length ending with a
/// tool call is `tool_use` (Claude Code runs tools only then).
pub(super) fn stop_reason(finish_reason: &str, saw_tool_use: bool) -> StopReason {
    if finish_reason == "MAX_TOKENS" {
        StopReason::MaxTokens
    } else if REFUSALS.contains(&finish_reason) {
        StopReason::Refusal
    } else if saw_tool_use {
        StopReason::ToolUse
    } else {
        StopReason::EndTurn
    }
}

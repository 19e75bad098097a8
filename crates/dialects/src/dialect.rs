//! The provider APIs keyrelay speaks, each described once by its facts: how
//! Anthropic Messages are translated to it, how its errors read and how they
//! are written for its clients, how its streams are framed, how a key is
//! checked and how tokens are counted. How its errors are *classified* (who
//! caused them) is keyrelay's, beside this description.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::anthropic::ErrorKind;
use crate::{Prefill, Translator};

/// The API a provider speaks (and, for errors keyrelay writes itself, the
/// API a client expects).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// Anthropic Messages: forwarded as is.
    Anthropic,
    /// OpenAI Chat Completions (OpenAI, LiteLLM, local servers).
    OpenaiChat,
    /// OpenAI Chat Completions as OpenRouter serves it: numeric error codes
    /// with `metadata`, rate limits per account rather than per key, error
    /// chunks inside streams, and a key-info endpoint.
    Openrouter,
    /// Google's Gemini API (`generateContent`).
    Gemini,
    /// Ollama's `/api/chat` (NDJSON streams).
    Ollama,
}

/// How a token count is answered for a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCounter {
    /// Anthropic's `/v1/messages/count_tokens`.
    AnthropicCountTokens,
    /// Gemini's `countTokens`.
    GeminiCountTokens,
    /// No counter upstream: a labelled local estimate.
    Estimate,
}

/// How a response body is cut into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `text/event-stream`.
    Sse,
    /// `application/x-ndjson` (Ollama).
    Ndjson,
    /// Anything else: one document.
    Whole,
}

impl Framing {
    /// The framing a `Content-Type` value announces.
    pub fn of_content_type(content_type: &str) -> Framing {
        let content_type = content_type.trim_start();
        let starts = |prefix: &str| {
            content_type
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        };
        if starts("text/event-stream") {
            Framing::Sse
        } else if starts("application/x-ndjson") || starts("application/jsonl") {
            Framing::Ndjson
        } else {
            Framing::Whole
        }
    }
}

impl Dialect {
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Anthropic => "anthropic",
            Dialect::OpenaiChat => "openai-chat",
            Dialect::Openrouter => "openrouter",
            Dialect::Gemini => "gemini",
            Dialect::Ollama => "ollama",
        }
    }

    /// The translator from the hub (Anthropic Messages) to this dialect. An
    /// Anthropic-dialect provider takes the hub request itself, made
    /// acceptable to Anthropic (what a client of another API sent may carry
    /// fields Anthropic refuses).
    pub fn hub_translator(self) -> &'static dyn Translator {
        match self {
            Dialect::Anthropic => &crate::anthropic::AnthropicUpstream,
            Dialect::OpenaiChat | Dialect::Openrouter => &crate::openai::OpenAiChat,
            Dialect::Gemini => &crate::gemini::Gemini,
            Dialect::Ollama => &crate::ollama::Ollama,
        }
    }

    /// The path, below the base URL, of a cheap call no provider bills (a
    /// model list, or OpenRouter's key info), used to check a key.
    pub fn key_check_path(self) -> &'static str {
        match self {
            Dialect::Anthropic => "/v1/models",
            Dialect::OpenaiChat => "/models",
            Dialect::Openrouter => "/key",
            Dialect::Gemini => "/v1beta/models",
            Dialect::Ollama => "/api/tags",
        }
    }

    /// The request headers (lower case) this API reads that a client of it
    /// may choose, beyond `content-type`, `accept` and the like: its version
    /// and beta flags, and the ids its own official clients send it. Nothing
    /// here picks who is billed (OpenAI's organisation and project, Google's
    /// quota project) or how the request travels.
    pub fn request_headers(self) -> &'static [&'static str] {
        match self {
            // Claude Code sends its session id to api.anthropic.com itself.
            Dialect::Anthropic => &[
                "anthropic-version",
                "anthropic-beta",
                "x-claude-code-session-id",
            ],
            // Codex sends its session as `session_id` (older) or `session-id`,
            // and a per-request `x-client-request-id`.
            Dialect::OpenaiChat => &[
                "openai-beta",
                "x-client-request-id",
                "session_id",
                "session-id",
            ],
            // App attribution (`X-Title` is the older name of the title).
            Dialect::Openrouter => &[
                "http-referer",
                "x-title",
                "x-openrouter-title",
                "x-openrouter-categories",
            ],
            // The SDK's identification, and the deadline it asks the server to keep.
            Dialect::Gemini => &["x-goog-api-client", "x-server-timeout"],
            Dialect::Ollama => &[],
        }
    }

    /// Whether a provider of this dialect continues a prefilled turn of
    /// `model` exactly (see [`crate::prefill`]), when its configuration
    /// does not say.
    pub fn prefill(self, model: &str) -> Prefill {
        match self {
            Dialect::Anthropic | Dialect::Gemini | Dialect::Ollama => Prefill::FinalTurn,
            // OpenAI's models answer a prefilled turn anew.
            Dialect::Openrouter if model.starts_with("openai/") => Prefill::Off,
            Dialect::Openrouter => Prefill::FinalTurn,
            Dialect::OpenaiChat => Prefill::Off,
        }
    }

    pub fn token_counter(self) -> TokenCounter {
        match self {
            Dialect::Anthropic => TokenCounter::AnthropicCountTokens,
            Dialect::Gemini => TokenCounter::GeminiCountTokens,
            Dialect::OpenaiChat | Dialect::Openrouter | Dialect::Ollama => TokenCounter::Estimate,
        }
    }

    /// The human message of an error body in this dialect, else the start of
    /// the body as text.
    pub fn error_message(self, body: &[u8]) -> Option<String> {
        if let Some(json) = parse_json(body) {
            if let Some(message) = self.message_in(&json) {
                return Some(message.to_owned());
            }
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        (!text.is_empty()).then(|| text.chars().take(500).collect())
    }

    /// The tokens (input and output) a whole answer in this dialect reports
    /// it used, for token budgets. Reads only the usage fields.
    pub fn usage_tokens(self, body: &[u8]) -> Option<u64> {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Counts {
            // Anthropic
            input_tokens: u64,
            output_tokens: u64,
            cache_creation_input_tokens: u64,
            // OpenAI Chat and Responses, OpenRouter
            total_tokens: u64,
            // Gemini
            #[serde(rename = "totalTokenCount")]
            total_token_count: u64,
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            usage: Option<Counts>,
            #[serde(rename = "usageMetadata")]
            usage_metadata: Option<Counts>,
            // Ollama's native API
            prompt_eval_count: Option<u64>,
            eval_count: Option<u64>,
        }
        let answer: Answer = serde_json::from_slice(body).ok()?;
        let total = match self {
            Dialect::Anthropic => answer
                .usage
                .map(|u| u.input_tokens + u.output_tokens + u.cache_creation_input_tokens)?,
            Dialect::OpenaiChat | Dialect::Openrouter => answer.usage.map(|u| u.total_tokens)?,
            Dialect::Gemini => answer.usage_metadata.map(|u| u.total_token_count)?,
            Dialect::Ollama => match (answer.prompt_eval_count, answer.eval_count) {
                (None, None) => answer.usage.map(|u| u.total_tokens)?,
                (input, output) => input.unwrap_or(0) + output.unwrap_or(0),
            },
        };
        Some(total)
    }

    /// The message inside a parsed error document.
    pub fn message_in(self, json: &Value) -> Option<&str> {
        let error = json.get("error");
        let nested = error.and_then(|e| e.get("message")).and_then(Value::as_str);
        match self {
            Dialect::Anthropic | Dialect::Gemini => nested,
            // vLLM and other OpenAI-compatible servers put it at the top.
            Dialect::OpenaiChat | Dialect::Openrouter => {
                nested.or_else(|| json.get("message").and_then(Value::as_str))
            }
            // Ollama: `{"error":"…"}`, or the OpenAI-compatible shape.
            Dialect::Ollama => error.and_then(Value::as_str).or(nested),
        }
    }

    /// An error document in this dialect's own shape; `status` is the HTTP status.
    pub fn error_body(self, status: u16, kind: ErrorKind, message: &str) -> Value {
        match self {
            Dialect::Anthropic => json!({
                "type": "error",
                "error": {"type": kind.as_str(), "message": message},
            }),
            Dialect::OpenaiChat | Dialect::Openrouter => json!({
                "error": {"message": message, "type": kind.as_str(), "param": null, "code": null},
            }),
            Dialect::Gemini => json!({
                "error": {"code": status, "message": message, "status": kind.google_status()},
            }),
            Dialect::Ollama => json!({"error": message}),
        }
    }

    /// The frame that tells a streaming client its stream failed after
    /// content had gone out, in this dialect and framing. `None` for a plain
    /// document, which can only be cut off.
    pub fn stream_error_frame(self, framing: Framing, message: &str) -> Option<Bytes> {
        let data = self.error_body(502, ErrorKind::Api, message).to_string();
        match (framing, self) {
            (Framing::Sse, Dialect::Anthropic) => {
                Some(format!("event: error\ndata: {data}\n\n").into())
            }
            (Framing::Sse, _) => Some(format!("data: {data}\n\n").into()),
            (Framing::Ndjson, _) => Some(format!("{data}\n").into()),
            (Framing::Whole, _) => None,
        }
    }
}

/// Parses a body as a JSON object. Gemini's non-SSE stream endpoint wraps
/// its error in an array, so an array yields its first element.
pub fn parse_json(body: &[u8]) -> Option<Value> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Array(items) => items.into_iter().next().filter(Value::is_object),
        value @ Value::Object(_) => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests;

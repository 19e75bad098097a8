//! OpenAI Chat Completions as clients speak it (`POST /v1/chat/completions`
//! from the openai SDKs, Open WebUI, aider, Continue, LangChain…), through
//! the hub for providers of another dialect:
//!
//! - [`ChatRequest::to_messages`]: the client's request as an Anthropic
//!   Messages request, which the provider's own translator takes on;
//! - [`completion`]: the provider's answer, read back as an Anthropic
//!   message, as a `chat.completion`;
//! - [`ChatChunks`]: the provider's stream, read back as Anthropic events,
//!   as `chat.completion.chunk` events.
//!
//! What survives: system and developer messages (as the one system prompt),
//! user text and images (`data:` and http URLs), assistant text and tool
//! calls, tool results, function tools and `tool_choice` (with
//! `parallel_tool_calls: false`), `response_format` (see below),
//! `reasoning_effort` (as a thinking budget), `max_completion_tokens` /
//! `max_tokens`, `stop`, `temperature`, `top_p`, `stream`,
//! `stream_options.include_usage` and `user` (as `metadata.user_id`).
//! What does not: `n` > 1, audio and file parts, the legacy `functions`
//! (each refused with a message), and `logprobs`, `seed`, penalties,
//! `logit_bias`, message `name`s and other fields (ignored).
//!
//! `response_format` `json_object` / `json_schema` becomes an instruction at
//! the end of the system prompt (with the schema) — which every provider
//! follows — and the hub's `output_config.format` (`json_schema`, Anthropic's
//! structured-output field; `{"type":"object"}` for `json_object`), which the
//! Gemini translator turns into Gemini's JSON mode (`responseMimeType` and
//! `responseSchema`) and the Ollama translator into Ollama's `format`.
//! Anthropic-dialect providers get the instruction only (not every model of
//! that dialect takes `output_config.format`).

mod chunks;
mod messages;
mod request;
mod response;

pub use chunks::ChatChunks;
pub use messages::{CalledFunction, ChatMessage, ChatToolCall};
pub use request::{ChatRequest, ChatTool, FunctionDefinition, Stop, StreamOptions};
pub use response::{completion, finish_reason, usage, ChatMeta};

// Shared with the Responses inbound translator.
pub(crate) use chunks::merge_usage;
pub(crate) use messages::image_source;
pub(crate) use request::{output_format, thinking};

#[cfg(test)]
mod tests;

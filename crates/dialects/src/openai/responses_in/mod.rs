//! The OpenAI Responses API as clients speak it (`POST /v1/responses` from
//! Codex CLI, the openai SDKs' `responses.create`…), through the hub for
//! providers that have no `/responses` of their own:
//!
//! - [`ResponsesRequest::to_messages`]: the client's request as an Anthropic
//!   Messages request, with what its answer must echo ([`RequestEcho`]);
//! - [`response_object`]: the provider's answer, read back as an Anthropic
//!   message, as a `response` object;
//! - [`ResponsesEvents`]: the provider's stream, read back as Anthropic
//!   events, as the Responses event sequence (`response.created` …
//!   `response.completed`).
//!
//! What survives: `instructions` and `system`/`developer` messages (the one
//! system prompt, in order), user text and images, assistant text,
//! `function_call` / `function_call_output` (and `custom_tool_call` /
//! `custom_tool_call_output`) with their `call_id`s, function tools, custom
//! (freeform) tools as a function taking one `input` string, the functions
//! of `namespace` tools as `NAMESPACE__NAME`, `tool_choice` (with
//! `allowed_tools` narrowing the list) and `parallel_tool_calls: false`,
//! `reasoning.effort` (a thinking budget), `reasoning.summary` (whether the
//! provider's reasoning shows as summary text), `max_output_tokens`,
//! `temperature`, `top_p`, `text.format` (an instruction and the hub's
//! `output_config.format`, as for Chat), `stream`, and `user` /
//! `safety_identifier` (as `metadata.user_id`).
//!
//! What does not: `reasoning` input items (their `encrypted_content` belongs
//! to the provider that made it), hosted tools a provider cannot run
//! (`web_search`, `file_search`, `code_interpreter`, `local_shell`, `mcp`,
//! `image_generation`, computer use…) and their calls in the history,
//! `text.verbosity`, `include`, `prompt_cache_key` (the gateway's session),
//! `store` (nothing is stored) — each dropped and listed in
//! [`Translated::dropped`]. Stored state cannot be reached through another
//! provider: `previous_response_id`, `conversation`, `background`, stored
//! `prompt`s and `item_reference` items are refused with a message; so are
//! file and audio inputs.

mod events;
mod input;
mod output;
mod request;
mod tools;

pub use events::ResponsesEvents;
pub use output::{response_object, ResponsesMeta};
pub use request::{RequestEcho, ResponsesRequest, Translated};
pub use tools::{ClientTool, ClientTools};

#[cfg(test)]
mod tests;

//! A hub answer as a Responses `response` object, and the output items and
//! envelope the stream encoder shares with it.
//!
//! - Each thinking block is a `reasoning` item; its text is the item's
//!   `summary` when the request asked for summaries, else the summary is
//!   empty (as OpenAI keeps raw reasoning to itself). No
//!   `encrypted_content`: nothing could bring it back to the provider.
//! - Text blocks are a `message` item with one `output_text` part.
//! - tool_use blocks are `function_call` items (`call_id` = the tool_use id,
//!   arguments as JSON text), or `custom_tool_call` items for custom tools,
//!   with the client's own name and `namespace`.
//! - Usage: `input_tokens` counts cache reads and writes (as OpenAI does),
//!   `cached_tokens` the reads; `reasoning_tokens` is an estimate (four bytes
//!   of reasoning text a token, at most the output tokens): the hub carries
//!   no count of its own.
//! - A stop at the token limit is `status: "incomplete"` with
//!   `incomplete_details.reason: "max_output_tokens"`; a refusal, with
//!   `"content_filter"`.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::request::RequestEcho;
use crate::anthropic::{ContentBlock, MessagesResponse, StopReason, Usage};

/// What a Responses answer says besides its output.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponsesMeta {
    /// `resp_…`.
    pub id: String,
    /// The model name the client asked for.
    pub model: String,
    /// Unix seconds.
    pub created_at: u64,
    pub echo: Arc<RequestEcho>,
}

impl ResponsesMeta {
    /// The id of the output item at `index`, with the item kind's prefix.
    pub(super) fn item_id(&self, prefix: &str, index: usize) -> String {
        let tail = self.id.strip_prefix("resp_").unwrap_or(&self.id);
        format!("{prefix}_{tail}{index:02}")
    }

    /// The `response` object around `output`; `usage` null while in progress.
    pub(super) fn envelope(&self, status: &str, output: Vec<Value>, usage: Value) -> Value {
        let mut body = Map::with_capacity(self.echo.fields.len() + 12);
        body.insert("id".into(), json!(self.id));
        body.insert("object".into(), json!("response"));
        body.insert("created_at".into(), json!(self.created_at));
        body.insert("status".into(), json!(status));
        body.insert("background".into(), json!(false));
        body.insert("error".into(), Value::Null);
        body.insert("incomplete_details".into(), Value::Null);
        body.insert("model".into(), json!(self.model));
        body.insert("output".into(), Value::Array(output));
        body.insert("usage".into(), usage);
        for (key, value) in &self.echo.fields {
            body.insert(key.clone(), value.clone());
        }
        Value::Object(body)
    }

    /// A `reasoning` item; `text` shows only when summaries were asked for.
    pub(super) fn reasoning_item(&self, id: &str, text: &str) -> Value {
        let summary = if self.echo.summaries && !text.is_empty() {
            json!([{"type": "summary_text", "text": text}])
        } else {
            json!([])
        };
        json!({"id": id, "type": "reasoning", "summary": summary})
    }

    /// A call item for a hub tool call: a `function_call`, or a
    /// `custom_tool_call` for a custom tool; `arguments` is the hub's JSON
    /// text (empty while the call is in progress).
    pub(super) fn call_item(
        &self,
        id: &str,
        call_id: &str,
        hub_name: &str,
        arguments: &str,
        status: &str,
    ) -> Value {
        let tool = self.echo.tools.get(hub_name);
        let name = tool.map_or(hub_name, |t| t.name.as_str());
        let mut item = if tool.is_some_and(|t| t.custom) {
            json!({"id": id, "type": "custom_tool_call", "status": status, "call_id": call_id,
                "name": name, "input": custom_input(arguments)})
        } else {
            json!({"id": id, "type": "function_call", "status": status, "call_id": call_id,
                "name": name, "arguments": arguments})
        };
        if let Some(namespace) = tool.and_then(|t| t.namespace.as_deref()) {
            item["namespace"] = json!(namespace);
        }
        item
    }

    pub(super) fn is_custom(&self, hub_name: &str) -> bool {
        self.echo.tools.get(hub_name).is_some_and(|t| t.custom)
    }
}

/// A `message` item with one `output_text` part.
pub(super) fn message_item(id: &str, text: &str, status: &str) -> Value {
    json!({"id": id, "type": "message", "status": status, "role": "assistant",
        "content": [output_text(text)]})
}

pub(super) fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

/// The string a custom tool is called with: the `input` of the hub call's
/// arguments (the whole text when they are not such an object).
pub(super) fn custom_input(arguments: &str) -> String {
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(mut object)) => match object.remove("input") {
            Some(Value::String(input)) => input,
            Some(other) => other.to_string(),
            None => Value::Object(object).to_string(),
        },
        _ => arguments.to_owned(),
    }
}

/// Function arguments as OpenAI writes them: `{}` rather than nothing.
pub(super) fn arguments_or_empty(arguments: &str) -> &str {
    if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    }
}

/// `status` and `incomplete_details` for a stop reason.
pub(super) fn status_of(stop: Option<StopReason>) -> (&'static str, Value) {
    match stop {
        Some(StopReason::MaxTokens | StopReason::ModelContextWindowExceeded) => {
            ("incomplete", json!({"reason": "max_output_tokens"}))
        }
        Some(StopReason::Refusal) => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The Responses `usage` object for hub usage and the reasoning text's length.
pub(super) fn usage(usage: &Usage, reasoning_bytes: usize) -> Value {
    let input =
        usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
    let reasoning = u64::try_from(reasoning_bytes.div_ceil(4))
        .unwrap_or(u64::MAX)
        .min(usage.output_tokens);
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": usage.cache_read_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + usage.output_tokens,
    })
}

/// The `response` object for a whole hub answer.
pub fn response_object(message: &MessagesResponse, meta: &ResponsesMeta) -> Value {
    let mut output = Vec::new();
    let mut text = String::new();
    let mut reasoning_bytes = 0;
    let flush = |text: &mut String, output: &mut Vec<Value>| {
        if !text.is_empty() {
            let id = meta.item_id("msg", output.len());
            output.push(message_item(&id, text, "completed"));
            text.clear();
        }
    };
    for block in &message.content {
        match block {
            ContentBlock::Text { text: more, .. } => text.push_str(more),
            // A thinking block that only carries a signature is no item.
            ContentBlock::Thinking { thinking, .. } if thinking.is_empty() => {}
            ContentBlock::Thinking { thinking, .. } => {
                flush(&mut text, &mut output);
                reasoning_bytes += thinking.len();
                let id = meta.item_id("rs", output.len());
                output.push(meta.reasoning_item(&id, thinking));
            }
            ContentBlock::RedactedThinking { .. } => {
                flush(&mut text, &mut output);
                let id = meta.item_id("rs", output.len());
                output.push(meta.reasoning_item(&id, ""));
            }
            ContentBlock::ToolUse { id, name, input } => {
                flush(&mut text, &mut output);
                let item_id = meta.item_id("fc", output.len());
                let arguments = if input.is_null() {
                    String::new()
                } else {
                    input.to_string()
                };
                let arguments = arguments_or_empty(&arguments);
                output.push(meta.call_item(&item_id, id, name, arguments, "completed"));
            }
            _ => {}
        }
    }
    flush(&mut text, &mut output);
    let (status, incomplete) = status_of(message.stop_reason);
    let mut body = meta.envelope(status, output, usage(&message.usage, reasoning_bytes));
    body["incomplete_details"] = incomplete;
    body
}

//! Anthropic Messages request → Ollama `/api/chat` body.
//!
//! What cannot be carried over, and what happens instead:
//! - URL images: Ollama takes only base64 `images`, and a translator does no
//!   I/O, so the image becomes a short text note in its place.
//! - `tool_choice`: Ollama has none. `none` sends no tools; `auto`, `any` and
//!   `tool` send the tools as given (the model may still answer in text).
//! - Server tools (`web_search_…`, no `input_schema`) have no Ollama form and are dropped.
//! - Thinking signatures and redacted thinking have no Ollama form and are dropped.
//! - `thinking` other than enabled/disabled (e.g. adaptive) leaves `think` out,
//!   so the model keeps its own default. `budget_tokens` has no Ollama form;
//!   gpt-oss models ignore `true`/`false` (they take "low"/"medium"/"high").
//! - Text blocks of one message are joined with a blank line: Ollama content is a string.
//! - Structured output (`output_config.format`, a JSON schema) becomes Ollama's
//!   `format`: the schema, or `"json"` when it says no more than "an object".

use std::collections::HashMap;

use serde_json::{json, Value};

use super::wire::{ChatRequest, FunctionCall, FunctionSpec, Message, Options, Tool, ToolCall};
use crate::anthropic::{
    Content, ContentBlock, ImageSource, MessagesRequest, Role, Thinking, ToolChoice,
    ToolResultContent,
};
use crate::TranslateError;

/// Joins text blocks of one message; Ollama content is a single string.
const BLOCK_SEPARATOR: &str = "\n\n";

/// The `/api/chat` body for `request`, with `model` the Ollama model name.
pub(super) fn build(request: &MessagesRequest, model: &str) -> Result<Value, TranslateError> {
    let tool_names = tool_names_by_id(request);
    let mut messages = Vec::new();
    if let Some(system) = request.system_text() {
        messages.push(Message::text("system", system));
    }
    for message in &request.messages {
        match message.role {
            Role::System => push_system(&message.content, &mut messages),
            Role::User => push_user(&message.content, &tool_names, &mut messages),
            Role::Assistant => push_assistant(&message.content, &mut messages),
        }
    }
    let body = ChatRequest {
        model,
        messages,
        stream: request.is_stream(),
        tools: tools(request),
        think: think(request.thinking.as_ref()),
        format: format(request),
        options: Options {
            temperature: request.temperature,
            top_p: request.top_p,
            top_k: request.top_k,
            num_predict: request.max_tokens,
            stop: request.stop_sequences.clone().filter(|s| !s.is_empty()),
        },
    };
    serde_json::to_value(&body)
        .map_err(|e| TranslateError(format!("cannot encode the Ollama request: {e}")))
}

/// Ollama's `format` for the hub's structured output, if any.
fn format(request: &MessagesRequest) -> Option<Value> {
    let format = request.output_config.as_ref()?.get("format")?;
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return None;
    }
    let schema = format.get("schema")?;
    let bare_object = schema.get("properties").is_none()
        && schema.get("type").and_then(Value::as_str) == Some("object");
    Some(if bare_object {
        json!("json")
    } else {
        schema.clone()
    })
}

/// Ollama tool results name their tool instead of pointing at a call id, so
/// the name is looked up from the `tool_use` block the result answers.
fn tool_names_by_id(request: &MessagesRequest) -> HashMap<&str, &str> {
    let mut names = HashMap::new();
    for message in &request.messages {
        if let Content::Blocks(blocks) = &message.content {
            for block in blocks {
                if let ContentBlock::ToolUse { id, name, .. } = block {
                    names.insert(id.as_str(), name.as_str());
                }
            }
        }
    }
    names
}

fn push_system(content: &Content, out: &mut Vec<Message>) {
    let text = match content {
        Content::Text(text) => text.clone(),
        Content::Blocks(blocks) => join_texts(blocks.iter().filter_map(block_text)),
    };
    if !text.is_empty() {
        out.push(Message::text("system", text));
    }
}

/// Text and images accumulated for one Ollama message.
#[derive(Default)]
struct Parts {
    texts: Vec<String>,
    images: Vec<String>,
}

impl Parts {
    fn add_image(&mut self, source: &ImageSource) {
        match source {
            ImageSource::Base64 { data, .. } => self.images.push(data.clone()),
            ImageSource::Url { url } => {
                self.texts.push(format!(
                    "[image not sent: Ollama accepts only base64 images, not URLs ({url})]"
                ));
            }
            ImageSource::Unknown(_) => self
                .texts
                .push("[image not sent: unsupported image source]".to_owned()),
        }
    }

    fn is_empty(&self) -> bool {
        self.texts.is_empty() && self.images.is_empty()
    }

    fn into_message(self, role: &'static str) -> Message {
        Message {
            images: self.images,
            ..Message::text(role, join_texts(self.texts.iter().map(String::as_str)))
        }
    }
}

/// A user turn: its tool results become `tool` messages, the rest one `user`
/// message, keeping the order in which the blocks came.
fn push_user(content: &Content, tool_names: &HashMap<&str, &str>, out: &mut Vec<Message>) {
    let blocks = match content {
        Content::Text(text) if text.is_empty() => return,
        Content::Text(text) => return out.push(Message::text("user", text.clone())),
        Content::Blocks(blocks) => blocks,
    };
    let mut parts = Parts::default();
    for block in blocks {
        match block {
            ContentBlock::Text { text, .. } if !text.is_empty() => parts.texts.push(text.clone()),
            ContentBlock::Image { source } => parts.add_image(source),
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                if !parts.is_empty() {
                    out.push(std::mem::take(&mut parts).into_message("user"));
                }
                let name = tool_names
                    .get(tool_use_id.as_str())
                    .map(|n| (*n).to_owned());
                out.push(tool_message(
                    content.as_ref(),
                    is_error.unwrap_or(false),
                    name,
                ));
            }
            // Thinking in a user turn, documents, unknown blocks: nothing to send.
            _ => {}
        }
    }
    if !parts.is_empty() {
        out.push(parts.into_message("user"));
    }
}

fn tool_message(
    content: Option<&ToolResultContent>,
    is_error: bool,
    tool_name: Option<String>,
) -> Message {
    let mut parts = Parts::default();
    match content {
        Some(ToolResultContent::Text(text)) => parts.texts.push(text.clone()),
        Some(ToolResultContent::Blocks(blocks)) => {
            for block in blocks {
                match block {
                    ContentBlock::Text { text, .. } => parts.texts.push(text.clone()),
                    ContentBlock::Image { source } => parts.add_image(source),
                    _ => {}
                }
            }
        }
        None => {}
    }
    let mut message = parts.into_message("tool");
    if is_error {
        // Ollama has no error flag on tool results: say it in the text.
        message.content = if message.content.is_empty() {
            "Error".to_owned()
        } else {
            format!("Error: {}", message.content)
        };
    }
    message.tool_name = tool_name;
    message
}

fn push_assistant(content: &Content, out: &mut Vec<Message>) {
    let blocks = match content {
        Content::Text(text) if text.is_empty() => return,
        Content::Text(text) => return out.push(Message::text("assistant", text.clone())),
        Content::Blocks(blocks) => blocks,
    };
    let mut texts = Vec::new();
    let mut thinking = Vec::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text { text, .. } if !text.is_empty() => texts.push(text.as_str()),
            ContentBlock::Thinking { thinking: text, .. } if !text.is_empty() => {
                thinking.push(text.as_str())
            }
            ContentBlock::ToolUse { name, input, .. } => tool_calls.push(ToolCall {
                function: FunctionCall {
                    name: name.clone(),
                    arguments: as_object(input),
                },
            }),
            _ => {}
        }
    }
    if texts.is_empty() && thinking.is_empty() && tool_calls.is_empty() {
        return;
    }
    out.push(Message {
        thinking: (!thinking.is_empty()).then(|| join_texts(thinking.into_iter())),
        tool_calls,
        ..Message::text("assistant", join_texts(texts.into_iter()))
    });
}

/// Ollama wants tool arguments as an object; anything else becomes `{}`.
fn as_object(input: &Value) -> Value {
    if input.is_object() {
        input.clone()
    } else {
        json!({})
    }
}

fn tools(request: &MessagesRequest) -> Vec<Tool> {
    if matches!(request.tool_choice, Some(ToolChoice::None)) {
        return Vec::new();
    }
    let Some(tools) = &request.tools else {
        return Vec::new();
    };
    tools
        .iter()
        .filter_map(|tool| {
            let parameters = match (&tool.input_schema, tool.kind.as_deref()) {
                (Some(schema), _) => schema.clone(),
                (None, None | Some("custom")) => json!({"type": "object", "properties": {}}),
                // A server tool: Anthropic runs it, Ollama cannot.
                (None, Some(_)) => return None,
            };
            Some(Tool {
                kind: "function",
                function: FunctionSpec {
                    name: tool.name.clone(),
                    description: tool.description.clone(),
                    parameters,
                },
            })
        })
        .collect()
}

fn think(thinking: Option<&Thinking>) -> Option<bool> {
    match thinking? {
        Thinking::Enabled { .. } => Some(true),
        Thinking::Disabled => Some(false),
        Thinking::Other(_) => None,
    }
}

fn block_text(block: &ContentBlock) -> Option<&str> {
    match block {
        ContentBlock::Text { text, .. } if !text.is_empty() => Some(text.as_str()),
        _ => None,
    }
}

fn join_texts<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    texts.collect::<Vec<_>>().join(BLOCK_SEPARATOR)
}

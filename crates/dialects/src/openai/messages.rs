//! Anthropic `system` + `messages` as an OpenAI `messages` array.
//!
//! - The system prompt becomes a leading `system` message; `role: "system"`
//!   entries inside `messages` (Claude Code sends these) stay in place.
//! - Assistant `tool_use` blocks become `tool_calls`; thinking and
//!   redacted thinking are dropped (OpenAI-style APIs cannot take them back).
//! - User `tool_result` blocks become `tool` messages placed before the rest
//!   of that user message, because OpenAI wants the tool answers right after
//!   the assistant turn that called them. Tool messages are text-only, so a
//!   result's images go into the following user message, labelled with the
//!   call they belong to.

use serde_json::{json, Value};

use crate::anthropic::{
    Content, ContentBlock, ImageSource, Message, MessagesRequest, Role, ToolResultContent,
};

/// The OpenAI `messages` for `request`.
pub(super) fn messages(request: &MessagesRequest) -> Vec<Value> {
    let mut out = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = request.system_text() {
        out.push(json!({"role": "system", "content": system}));
    }
    for message in &request.messages {
        match message.role {
            Role::System => system_message(message, &mut out),
            Role::Assistant => assistant_message(message, &mut out),
            Role::User => user_message(&message.content, &mut out),
        }
    }
    out
}

fn system_message(message: &Message, out: &mut Vec<Value>) {
    let text = joined_text(&message.content.blocks());
    if !text.is_empty() {
        out.push(json!({"role": "system", "content": text}));
    }
}

fn assistant_message(message: &Message, out: &mut Vec<Value>) {
    let blocks = message.content.blocks();
    let text = joined_text(&blocks);
    let tool_calls: Vec<Value> = blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolUse { id, name, input } => Some(json!({
                "id": id,
                "type": "function",
                "function": {"name": name, "arguments": arguments_json(input)},
            })),
            _ => None,
        })
        .collect();
    if text.is_empty() && tool_calls.is_empty() {
        // Only thinking (or nothing): an empty assistant turn would be rejected.
        return;
    }
    let mut entry = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { Value::String(text) }});
    if !tool_calls.is_empty() {
        entry["tool_calls"] = Value::Array(tool_calls);
    }
    out.push(entry);
}

/// The tool input as the JSON string OpenAI expects (`{}` when absent).
fn arguments_json(input: &Value) -> String {
    if input.is_null() {
        String::from("{}")
    } else {
        input.to_string()
    }
}

fn user_message(content: &Content, out: &mut Vec<Value>) {
    let blocks = match content {
        Content::Text(text) => {
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
            return;
        }
        Content::Blocks(blocks) => blocks,
    };
    let mut result_images = Vec::new();
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let images = tool_result_images(content.as_ref());
                let text = tool_result_text(
                    content.as_ref(),
                    is_error.unwrap_or(false),
                    !images.is_empty(),
                );
                out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": text}));
                if !images.is_empty() {
                    let label = format!("Images from the result of tool call {tool_use_id}:");
                    result_images.push(json!({"type": "text", "text": label}));
                    result_images.extend(images);
                }
            }
            ContentBlock::Text { text, .. } if !text.is_empty() => {
                parts.push(json!({"type": "text", "text": text}));
            }
            ContentBlock::Image { source } => parts.extend(image_part(source)),
            // Thinking in a user turn, documents, server-tool blocks: nothing OpenAI can take.
            _ => {}
        }
    }
    result_images.append(&mut parts);
    if let Some(content) = user_content(result_images) {
        out.push(json!({"role": "user", "content": content}));
    }
}

/// A plain string when every part is text (the form every server accepts),
/// else the array of parts; `None` when there is nothing to send.
fn user_content(parts: Vec<Value>) -> Option<Value> {
    if parts.is_empty() {
        return None;
    }
    if parts.iter().all(|p| p["type"] == "text") {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        return Some(Value::String(texts.join("\n\n")));
    }
    Some(Value::Array(parts))
}

fn tool_result_text(
    content: Option<&ToolResultContent>,
    is_error: bool,
    has_images: bool,
) -> String {
    let mut text = content.map(ToolResultContent::text).unwrap_or_default();
    if has_images {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("(this result's images follow in the next user message)");
    }
    if is_error {
        // Tool messages have no error flag: say it in the text so the model knows it failed.
        text = if text.is_empty() {
            String::from("Error")
        } else {
            format!("Error: {text}")
        };
    }
    text
}

fn tool_result_images(content: Option<&ToolResultContent>) -> Vec<Value> {
    match content {
        Some(ToolResultContent::Blocks(blocks)) => blocks
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Image { source } => image_part(source),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An `image_url` part: base64 sources become `data:` URLs.
fn image_part(source: &ImageSource) -> Option<Value> {
    let url = match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url.clone(),
        ImageSource::Unknown(_) => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// Text blocks joined with blank lines; other blocks ignored.
fn joined_text(blocks: &[ContentBlock]) -> String {
    blocks
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text { text, .. } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

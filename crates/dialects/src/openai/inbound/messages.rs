//! Chat Completions `messages` as the hub's system prompt and messages.
//!
//! - `system` and `developer` messages, wherever they stand, join the system
//!   prompt in order (the hub has one system prompt).
//! - `user` content: text, and `image_url` parts (a `data:` URL becomes a
//!   base64 image, any other URL an image by URL). Audio and file parts
//!   cannot be translated and are refused with a message naming them.
//! - `assistant`: its text (and refusal text), then its `tool_calls` as
//!   tool_use blocks; arguments that are not a JSON object are kept as
//!   `{"raw_arguments": "…"}`.
//! - `tool` messages become tool_result blocks of one user turn, with any
//!   user text after them, as Anthropic wants the answers to a turn's
//!   calls together and first.
//! - Consecutive turns of one role merge (Anthropic and Gemini want turns
//!   to alternate); message `name`s are dropped.

use serde::Deserialize;
use serde_json::Value;

use super::super::response::tool_input;
use crate::anthropic::{Content, ContentBlock, ImageSource, Message, Role, ToolResultContent};
use crate::translate::TranslateError;

/// One entry of `messages`. `content` stays raw: a string, an array of
/// parts, or null.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    #[serde(default)]
    pub content: Option<Value>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ChatToolCall>>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChatToolCall {
    #[serde(default)]
    pub id: String,
    pub function: CalledFunction,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CalledFunction {
    #[serde(default)]
    pub name: String,
    /// A JSON string per the spec; some clients send the object itself.
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// The system prompt's parts and the conversation.
pub(super) struct Conversation {
    pub system: Vec<String>,
    pub messages: Vec<Message>,
}

pub(super) fn conversation(messages: &[ChatMessage]) -> Result<Conversation, TranslateError> {
    let mut out = Conversation {
        system: Vec::new(),
        messages: Vec::new(),
    };
    for (n, message) in messages.iter().enumerate() {
        let at = |what: String| TranslateError(format!("messages[{n}]: {what}"));
        match message.role.as_str() {
            "system" | "developer" => {
                let text = text_only(message.content.as_ref()).map_err(at)?;
                if !text.is_empty() {
                    out.system.push(text);
                }
            }
            "user" => {
                let blocks = user_blocks(message.content.as_ref()).map_err(at)?;
                push_turn(&mut out.messages, Role::User, blocks);
            }
            "assistant" => {
                let blocks = assistant_blocks(message).map_err(at)?;
                push_turn(&mut out.messages, Role::Assistant, blocks);
            }
            "tool" => {
                let id = message
                    .tool_call_id
                    .clone()
                    .ok_or_else(|| at(String::from("a tool message needs tool_call_id")))?;
                let text = text_only(message.content.as_ref()).map_err(at)?;
                let result = ContentBlock::ToolResult {
                    tool_use_id: id,
                    content: Some(ToolResultContent::Text(text)),
                    is_error: None,
                };
                push_turn(&mut out.messages, Role::User, vec![result]);
            }
            "function" => {
                return Err(at(String::from(
                    "the legacy function role is not supported; send tool messages instead",
                )))
            }
            other => return Err(at(format!("unknown role {other:?}"))),
        }
    }
    Ok(out)
}

/// Appends `blocks` as a turn of `role`, merged into the previous turn when
/// it has the same role.
fn push_turn(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut().filter(|m| m.role == role) {
        let mut merged = last.content.blocks();
        merged.extend(blocks);
        last.content = Content::Blocks(merged);
        return;
    }
    messages.push(Message {
        role,
        content: Content::Blocks(blocks),
    });
}

/// The text of a content that may only hold text (system, developer and
/// tool messages), parts joined with blank lines.
fn text_only(content: Option<&Value>) -> Result<String, String> {
    match content {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(Value::Array(parts)) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (n, part) in parts.iter().enumerate() {
                match part_type(part) {
                    "text" => texts.push(part_text(part, "text")),
                    other => {
                        return Err(format!(
                            "content[{n}]: a {other:?} part cannot stand here, only text"
                        ))
                    }
                }
            }
            Ok(texts.join("\n\n"))
        }
        Some(_) => Err(String::from(
            "content must be a string or an array of parts",
        )),
    }
}

fn user_blocks(content: Option<&Value>) -> Result<Vec<ContentBlock>, String> {
    let parts = match content {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(text)) => return Ok(text_block(text.clone()).into_iter().collect()),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(String::from(
                "content must be a string or an array of parts",
            ))
        }
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (n, part) in parts.iter().enumerate() {
        match part_type(part) {
            "text" => blocks.extend(text_block(part_text(part, "text"))),
            "image_url" => {
                // `{"url": …}`, or (some clients) the URL string itself.
                let image = &part["image_url"];
                let url = image
                    .get("url")
                    .and_then(Value::as_str)
                    .or_else(|| image.as_str())
                    .ok_or_else(|| format!("content[{n}]: image_url needs a url"))?;
                let source = image_source(url).map_err(|e| format!("content[{n}]: {e}"))?;
                blocks.push(ContentBlock::Image { source });
            }
            other => {
                return Err(format!(
                    "content[{n}]: {other:?} parts cannot be translated for this provider; send text and image_url parts"
                ))
            }
        }
    }
    Ok(blocks)
}

fn assistant_blocks(message: &ChatMessage) -> Result<Vec<ContentBlock>, String> {
    let mut blocks = Vec::new();
    match message.content.as_ref() {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => blocks.extend(text_block(text.clone())),
        Some(Value::Array(parts)) => {
            for (n, part) in parts.iter().enumerate() {
                match part_type(part) {
                    "text" => blocks.extend(text_block(part_text(part, "text"))),
                    "refusal" => blocks.extend(text_block(part_text(part, "refusal"))),
                    other => {
                        return Err(format!(
                            "content[{n}]: a {other:?} part cannot stand in an assistant message"
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(String::from(
                "content must be a string or an array of parts",
            ))
        }
    }
    for call in message.tool_calls.iter().flatten() {
        let arguments = match &call.function.arguments {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        };
        blocks.push(ContentBlock::ToolUse {
            id: call.id.clone(),
            name: call.function.name.clone(),
            input: tool_input(&arguments),
        });
    }
    Ok(blocks)
}

/// A `data:` URL as a base64 image, any other URL as an image by URL.
pub(crate) fn image_source(url: &str) -> Result<ImageSource, String> {
    let Some(rest) = url.strip_prefix("data:") else {
        return Ok(ImageSource::Url {
            url: url.to_owned(),
        });
    };
    let (header, data) = rest
        .split_once(',')
        .ok_or("a data: URL needs a comma before its data")?;
    let Some(header) = header.strip_suffix(";base64") else {
        return Err(String::from("only base64 data: URLs are supported"));
    };
    let media_type = header.split(';').next().unwrap_or_default();
    if media_type.is_empty() {
        return Err(String::from("a data: URL needs a media type"));
    }
    Ok(ImageSource::Base64 {
        media_type: media_type.to_owned(),
        data: data.to_owned(),
    })
}

fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

fn part_text(part: &Value, key: &str) -> String {
    part.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Anthropic refuses empty text blocks, so none is made.
fn text_block(text: String) -> Option<ContentBlock> {
    (!text.is_empty()).then(|| ContentBlock::text(text))
}

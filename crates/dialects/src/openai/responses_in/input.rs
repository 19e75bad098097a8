//! Responses `input` as the hub's system prompt and messages.
//!
//! - A string is one user message.
//! - `message` items (with or without `"type": "message"`): `system` and
//!   `developer` text joins the system prompt in order; `user` text and
//!   images (`data:` URLs as base64, others by URL) become user content;
//!   `assistant` `output_text` (and `refusal`) becomes assistant text.
//! - `function_call` and `custom_tool_call` become tool_use blocks under
//!   their `call_id`; `function_call_output` and `custom_tool_call_output`
//!   become tool_result blocks of one user turn.
//! - `reasoning` items and hosted tools' calls and outputs are dropped (and
//!   noted); `item_reference`, file and audio inputs are refused.
//! - Consecutive turns of one role merge, as Anthropic and Gemini want.

use serde_json::Value;

use super::tools::hub_name;
use crate::anthropic::{Content, ContentBlock, Message, Role, ToolResultContent};
use crate::openai::inbound::image_source;
use crate::openai::response::tool_input;
use crate::translate::TranslateError;

/// The system prompt's parts, the conversation, and what was left out.
pub(super) struct Conversation {
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub dropped: Vec<String>,
}

pub(super) fn conversation(input: Option<&Value>) -> Result<Conversation, TranslateError> {
    let mut out = Conversation {
        system: Vec::new(),
        messages: Vec::new(),
        dropped: Vec::new(),
    };
    let items = match input {
        None | Some(Value::Null) => return Ok(out),
        Some(Value::String(text)) => {
            push_turn(&mut out.messages, Role::User, text_block(text));
            return Ok(out);
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(TranslateError(String::from(
                "input: must be a string or a list of items",
            )))
        }
    };
    for (n, item) in items.iter().enumerate() {
        let at = |what: String| TranslateError(format!("input[{n}]: {what}"));
        match item["type"].as_str().unwrap_or("message") {
            "message" => message(item, &mut out).map_err(at)?,
            "function_call" => {
                let name = hub_name(item["namespace"].as_str(), str_field(item, "name"));
                let call = ContentBlock::ToolUse {
                    id: call_id(item).map_err(at)?,
                    name,
                    input: tool_input(str_field(item, "arguments")),
                };
                push_turn(&mut out.messages, Role::Assistant, vec![call]);
            }
            "custom_tool_call" => {
                let name = hub_name(item["namespace"].as_str(), str_field(item, "name"));
                let call = ContentBlock::ToolUse {
                    id: call_id(item).map_err(at)?,
                    name,
                    input: serde_json::json!({ "input": str_field(item, "input") }),
                };
                push_turn(&mut out.messages, Role::Assistant, vec![call]);
            }
            "function_call_output" | "custom_tool_call_output" => {
                let result = ContentBlock::ToolResult {
                    tool_use_id: call_id(item).map_err(at)?,
                    content: Some(tool_output(&item["output"]).map_err(at)?),
                    is_error: None,
                };
                push_turn(&mut out.messages, Role::User, vec![result]);
            }
            "reasoning" => out.dropped.push(format!(
                "input[{n}]: a reasoning item (its encrypted content belongs to the provider that made it)"
            )),
            "item_reference" => {
                return Err(at(String::from(
                    "item_reference needs responses stored upstream, and keyrelay keeps none: send the items themselves",
                )))
            }
            other => out
                .dropped
                .push(format!("input[{n}]: a {other:?} item of a hosted tool")),
        }
    }
    Ok(out)
}

fn message(item: &Value, out: &mut Conversation) -> Result<(), String> {
    let content = &item["content"];
    match item["role"].as_str().unwrap_or("") {
        "system" | "developer" => {
            let text = text_only(content)?;
            if !text.is_empty() {
                out.system.push(text);
            }
        }
        "user" => push_turn(&mut out.messages, Role::User, user_blocks(content)?),
        "assistant" => {
            let text = match content {
                Value::Array(_) => text_only(content)?,
                other => other.as_str().unwrap_or_default().to_owned(),
            };
            push_turn(&mut out.messages, Role::Assistant, text_block(&text));
        }
        other => return Err(format!("unknown role {other:?}")),
    }
    Ok(())
}

/// The text of content that may only hold text, parts joined with blank lines.
fn text_only(content: &Value) -> Result<String, String> {
    match content {
        Value::Null => Ok(String::new()),
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (n, part) in parts.iter().enumerate() {
                match part["type"].as_str().unwrap_or("") {
                    "input_text" | "output_text" | "text" => texts.push(str_field(part, "text")),
                    "refusal" => texts.push(str_field(part, "refusal")),
                    other => {
                        return Err(format!(
                            "content[{n}]: a {other:?} part cannot stand here, only text"
                        ))
                    }
                }
            }
            Ok(texts.join("\n\n"))
        }
        _ => Err(String::from("content must be a string or a list of parts")),
    }
}

fn user_blocks(content: &Value) -> Result<Vec<ContentBlock>, String> {
    let parts = match content {
        Value::Null => return Ok(Vec::new()),
        Value::String(text) => return Ok(text_block(text)),
        Value::Array(parts) => parts,
        _ => return Err(String::from("content must be a string or a list of parts")),
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (n, part) in parts.iter().enumerate() {
        blocks.extend(part_block(part).map_err(|e| format!("content[{n}]: {e}"))?);
    }
    Ok(blocks)
}

/// One user (or tool output) part: text or an image.
fn part_block(part: &Value) -> Result<Option<ContentBlock>, String> {
    match part["type"].as_str().unwrap_or("") {
        "input_text" | "text" => Ok(text_block(str_field(part, "text")).pop()),
        "input_image" => {
            let Some(url) = part["image_url"].as_str() else {
                return Err(String::from(
                    "an input_image by file_id needs OpenAI's file storage; send its image_url",
                ));
            };
            let source = image_source(url)?;
            Ok(Some(ContentBlock::Image { source }))
        }
        other => Err(format!(
            "{other:?} parts cannot be translated for this provider; send input_text and input_image parts"
        )),
    }
}

/// A tool's output: a string, or parts (text and images).
fn tool_output(output: &Value) -> Result<ToolResultContent, String> {
    match output {
        Value::String(text) => Ok(ToolResultContent::Text(text.clone())),
        Value::Array(parts) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (n, part) in parts.iter().enumerate() {
                blocks.extend(part_block(part).map_err(|e| format!("output[{n}]: {e}"))?);
            }
            Ok(ToolResultContent::Blocks(blocks))
        }
        Value::Null => Ok(ToolResultContent::Text(String::new())),
        other => Ok(ToolResultContent::Text(other.to_string())),
    }
}

fn call_id(item: &Value) -> Result<String, String> {
    item["call_id"]
        .as_str()
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| String::from("call_id is required"))
}

fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// Anthropic refuses empty text blocks, so none is made.
fn text_block(text: &str) -> Vec<ContentBlock> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![ContentBlock::text(text)]
    }
}

/// Appends `blocks` as a turn of `role`, merged into the previous turn when
/// it has the same role.
fn push_turn(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut().filter(|m| m.role == role) {
        match &mut last.content {
            Content::Blocks(merged) => merged.extend(blocks),
            Content::Text(_) => {
                let mut merged = last.content.blocks();
                merged.extend(blocks);
                last.content = Content::Blocks(merged);
            }
        }
        return;
    }
    messages.push(Message {
        role,
        content: Content::Blocks(blocks),
    });
}

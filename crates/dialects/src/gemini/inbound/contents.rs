//! Gemini `contents` and `systemInstruction` as the hub's system prompt and
//! messages.
//!
//! - `user` turns (and the old `function` role): text, images (`inlineData`
//!   base64, `fileData` by URL) and `functionResponse`s, which become
//!   tool_result blocks placed first in their turn, as Anthropic wants.
//! - `model` turns: text and `functionCall`s (tool_use blocks). Thought
//!   parts are dropped: a thought cannot go back to a provider without the
//!   signature only that provider can check (Gemini itself takes none back).
//! - Consecutive turns of one role merge (Anthropic wants them to alternate).
//!
//! Call ids: the hub's tool_use id is the call's own `id`, made safe for
//! Anthropic (`^[a-zA-Z0-9_-]+$`), with Gemini CLI's `{name}__` prefix taken
//! off so an id keyrelay handed out comes back as it was; a call without an
//! id gets one from its position. A `functionResponse` pairs with the
//! pending call of its id, else with the first pending call of its name, in
//! order.

use serde_json::Value;

use super::wire::{Content, FunctionCall, FunctionResponse, Part};
use crate::anthropic::{Content as HubContent, ContentBlock, ImageSource, Message, Role};
use crate::translate::TranslateError;

/// The system prompt (parts joined with blank lines) and the conversation.
pub(super) struct Conversation {
    pub system: Option<String>,
    pub messages: Vec<Message>,
}

pub(super) fn conversation(
    system: Option<&Content>,
    contents: &[Content],
) -> Result<Conversation, TranslateError> {
    let system = system
        .map(|content| {
            content
                .parts
                .iter()
                .filter_map(|p| p.text.as_deref())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n")
        })
        .filter(|s| !s.is_empty());
    let mut calls = PendingCalls::default();
    let mut messages: Vec<Message> = Vec::new();
    for (turn, content) in contents.iter().enumerate() {
        let at = |what: String| TranslateError(format!("contents[{turn}]: {what}"));
        let (role, blocks) = match content.role.as_deref().unwrap_or("user") {
            "user" | "function" | "tool" => {
                (Role::User, user_blocks(content, &mut calls).map_err(at)?)
            }
            "model" | "assistant" => (
                Role::Assistant,
                model_blocks(turn, content, &mut calls).map_err(at)?,
            ),
            other => {
                return Err(at(format!(
                    "unknown role {other:?}; expected user or model"
                )))
            }
        };
        push_turn(&mut messages, role, blocks);
    }
    Ok(Conversation { system, messages })
}

/// The calls of model turns that no response has answered yet.
#[derive(Default)]
struct PendingCalls {
    /// (hub id, name, answered)
    calls: Vec<(String, String, bool)>,
}

impl PendingCalls {
    /// The hub id a response answers: its own id when a pending call has
    /// it, else the first unanswered call of its name.
    fn answer(&mut self, response: &FunctionResponse) -> Option<String> {
        let wanted = response
            .id
            .as_deref()
            .filter(|id| !id.is_empty())
            .map(|id| hub_id(id, &response.name));
        let by_id = self
            .calls
            .iter()
            .position(|(id, _, answered)| !answered && Some(id) == wanted.as_ref());
        let found = by_id.or_else(|| {
            self.calls
                .iter()
                .position(|(_, name, answered)| !answered && *name == response.name)
        });
        match found {
            Some(at) => {
                let (id, _, answered) = &mut self.calls[at];
                *answered = true;
                Some(id.clone())
            }
            None => wanted,
        }
    }
}

fn user_blocks(content: &Content, calls: &mut PendingCalls) -> Result<Vec<ContentBlock>, String> {
    let mut results = Vec::new();
    let mut rest = Vec::new();
    for (n, part) in content.parts.iter().enumerate() {
        let at = |what: String| format!("parts[{n}]: {what}");
        if let Some(response) = &part.function_response {
            let Some(id) = calls.answer(response) else {
                // No call to pair with: keep what it says as text.
                rest.push(ContentBlock::text(format!(
                    "[result of function {}]\n{}",
                    response.name,
                    result_text(response.response.as_ref()).0
                )));
                continue;
            };
            let (text, is_error) = result_text(response.response.as_ref());
            results.push(ContentBlock::ToolResult {
                tool_use_id: id,
                content: Some(crate::anthropic::ToolResultContent::Text(text)),
                is_error: is_error.then_some(true),
            });
            continue;
        }
        if part.function_call.is_some() {
            return Err(at(String::from(
                "a functionCall can only stand in a model turn",
            )));
        }
        rest.extend(media_or_text(part).map_err(at)?);
    }
    results.extend(rest);
    Ok(results)
}

fn model_blocks(
    turn: usize,
    content: &Content,
    calls: &mut PendingCalls,
) -> Result<Vec<ContentBlock>, String> {
    let mut blocks = Vec::new();
    for (n, part) in content.parts.iter().enumerate() {
        if let Some(call) = &part.function_call {
            let id = call_id(call, turn, n);
            calls.calls.push((id.clone(), call.name.clone(), false));
            blocks.push(ContentBlock::ToolUse {
                id,
                name: call.name.clone(),
                input: match &call.args {
                    Some(args @ Value::Object(_)) => args.clone(),
                    _ => Value::Object(Default::default()),
                },
            });
            continue;
        }
        if part.thought == Some(true) {
            continue;
        }
        if part.function_response.is_some() {
            return Err(format!(
                "parts[{n}]: a functionResponse can only stand in a user turn"
            ));
        }
        if let Some(text) = part.text.as_deref().filter(|t| !t.is_empty()) {
            blocks.push(ContentBlock::text(text));
        }
        // Media a model produced (generated images) cannot be sent back as the assistant's.
    }
    Ok(blocks)
}

/// The hub id of a call: its own id made safe, or one from its position.
fn call_id(call: &FunctionCall, turn: usize, part: usize) -> String {
    match call.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => hub_id(id, &call.name),
        None => format!("toolu_gm_c{turn}_{part}"),
    }
}

/// A client's call id as a hub id: Gemini CLI's `{name}__` prefix dropped,
/// and every byte outside `[A-Za-z0-9_-]` written `_xx` (hex), so distinct
/// ids stay distinct and the same id always maps alike.
pub(super) fn hub_id(id: &str, name: &str) -> String {
    let id = id
        .strip_prefix(name)
        .and_then(|rest| rest.strip_prefix("__"))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(id);
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || (b == b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("_{b:02x}"));
        }
    }
    out
}

/// A function's response as tool_result text: the `output` (or `error`,
/// then `is_error`) string when that is all it holds, else its JSON.
fn result_text(response: Option<&Value>) -> (String, bool) {
    let Some(Value::Object(fields)) = response else {
        return (response.map_or_else(String::new, Value::to_string), false);
    };
    let single = (fields.len() == 1).then(|| fields.iter().next()).flatten();
    match single {
        Some((key, Value::String(text))) if key == "output" || key == "result" => {
            (text.clone(), false)
        }
        Some((key, Value::String(text))) if key == "error" => (text.clone(), true),
        Some((key, other)) if key == "error" => (other.to_string(), true),
        _ => (Value::Object(fields.clone()).to_string(), false),
    }
}

/// Text, or an image by value or by URL; other media cannot be translated.
fn media_or_text(part: &Part) -> Result<Option<ContentBlock>, String> {
    if let Some(blob) = &part.inline_data {
        if !blob.mime_type.starts_with("image/") {
            return Err(format!(
                "inlineData of type {:?} cannot be translated for this provider; only images (image/*) can",
                blob.mime_type
            ));
        }
        return Ok(Some(ContentBlock::Image {
            source: ImageSource::Base64 {
                media_type: blob.mime_type.clone(),
                data: blob.data.clone(),
            },
        }));
    }
    if let Some(file) = &part.file_data {
        let image = file
            .mime_type
            .as_deref()
            .is_none_or(|m| m.starts_with("image/"));
        let web = file.file_uri.starts_with("https://") || file.file_uri.starts_with("http://");
        let google_file = file.file_uri.contains("generativelanguage.googleapis.com");
        if !image || !web || google_file {
            return Err(format!(
                "fileData {:?} cannot be translated for this provider; only images at public http(s) URLs can (files uploaded to Google stay there)",
                file.file_uri
            ));
        }
        return Ok(Some(ContentBlock::Image {
            source: ImageSource::Url {
                url: file.file_uri.clone(),
            },
        }));
    }
    if part.executable_code.is_some() || part.code_execution_result.is_some() {
        return Err(String::from(
            "code execution parts cannot be translated for this provider",
        ));
    }
    if part.thought == Some(true) {
        return Ok(None);
    }
    Ok(part
        .text
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(ContentBlock::text))
}

/// Appends `blocks` as a turn of `role`, merged into the previous turn of
/// the same role (tool results first, as Anthropic wants them).
fn push_turn(messages: &mut Vec<Message>, role: Role, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = messages.last_mut().filter(|m| m.role == role) {
        let mut merged = last.content.blocks();
        merged.extend(blocks);
        if role == Role::User {
            merged.sort_by_key(|b| !matches!(b, ContentBlock::ToolResult { .. }));
        }
        last.content = HubContent::Blocks(merged);
        return;
    }
    messages.push(Message {
        role,
        content: HubContent::Blocks(blocks),
    });
}

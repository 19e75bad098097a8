//! Anthropic messages → Gemini `contents` and `systemInstruction`, built as
//! values from the owned hub request: the reference the written form
//! (`write.rs`) is tested against.
//!
//! Gemini wants user and model turns to alternate, a function response in
//! the turn right after its call (one response per call), and the first call
//! of each model step signed. Anthropic `tool_result`s do not name their tool,
//! so the name comes from the matching `tool_use` earlier in the conversation.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::ids;
use super::write::mime_from_url;
use crate::anthropic::{
    Content, ContentBlock, ImageSource, Message, MessagesRequest, Role, System, ToolResultContent,
};

/// The conversation part of a `generateContent` body.
pub(super) struct Conversation {
    pub system_instruction: Option<Value>,
    pub contents: Vec<Value>,
}

pub(super) fn conversation(request: &MessagesRequest) -> Conversation {
    let mut system: Vec<Value> = match &request.system {
        Some(System::Text(text)) => text_part(text).into_iter().collect(),
        Some(System::Blocks(blocks)) => blocks
            .iter()
            .filter_map(block_text)
            .filter_map(text_part)
            .collect(),
        None => Vec::new(),
    };
    let calls = tool_calls(&request.messages);
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let blocks = message.content.blocks();
        let (role, parts) = match message.role {
            // Claude Code sends system entries inside `messages`: they join the instruction.
            Role::System => {
                system.extend(blocks.iter().filter_map(block_text).filter_map(text_part));
                continue;
            }
            Role::User => ("user", user_parts(&blocks, &calls)),
            Role::Assistant => ("model", model_parts(&blocks)),
        };
        if parts.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, merged)) if *last == role => merged.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    for (role, parts) in &mut turns {
        if *role == "model" {
            sign_first_call(parts);
        }
    }
    Conversation {
        system_instruction: (!system.is_empty()).then(|| json!({ "parts": system })),
        contents: turns
            .into_iter()
            .map(|(role, parts)| json!({ "role": role, "parts": parts }))
            .collect(),
    }
}

/// `tool_use` id → function name, for every call in the conversation.
fn tool_calls(messages: &[Message]) -> HashMap<String, String> {
    let mut calls = HashMap::new();
    for message in messages.iter().filter(|m| m.role == Role::Assistant) {
        if let Content::Blocks(blocks) = &message.content {
            for block in blocks {
                if let ContentBlock::ToolUse { id, name, .. } = block {
                    calls.insert(id.clone(), name.clone());
                }
            }
        }
    }
    calls
}

/// Function responses first (Gemini pairs them with the previous turn's
/// calls), then images returned by tools, then the rest in order.
fn user_parts(blocks: &[ContentBlock], calls: &HashMap<String, String>) -> Vec<Value> {
    let mut responses = Vec::new();
    let mut tool_images = Vec::new();
    let mut rest = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text { text, .. } => rest.extend(text_part(text)),
            ContentBlock::Image { source } => rest.extend(image_part(source)),
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let text = content
                    .as_ref()
                    .map(ToolResultContent::text)
                    .unwrap_or_default();
                let Some(name) = calls.get(tool_use_id) else {
                    // No call to pair with: Gemini would reject a stray functionResponse.
                    rest.extend(text_part(&format!(
                        "[result of tool call {tool_use_id}]\n{text}"
                    )));
                    continue;
                };
                let key = if is_error.unwrap_or(false) {
                    "error"
                } else {
                    "output"
                };
                let mut response = Map::new();
                response.insert("name".into(), Value::String(name.clone()));
                response.insert("response".into(), json!({ key: text }));
                if let Some(id) = ids::decode(tool_use_id).gemini_id {
                    response.insert("id".into(), Value::String(id));
                }
                responses.push(json!({ "functionResponse": response }));
                if let Some(ToolResultContent::Blocks(inner)) = content {
                    for block in inner {
                        if let ContentBlock::Image { source } = block {
                            tool_images.extend(image_part(source));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    responses.extend(tool_images);
    responses.extend(rest);
    responses
}

fn model_parts(blocks: &[ContentBlock]) -> Vec<Value> {
    let mut parts: Vec<Value> = Vec::new();
    // A thinking block's Gemini signature belongs to the part after it: the
    // text or call it was minted with.
    let mut pending: Option<&str> = None;
    for block in blocks {
        match block {
            ContentBlock::Text { text, .. } => {
                if let Some(mut part) = text_part(text) {
                    sign(&mut part, pending.take());
                    parts.push(part);
                }
            }
            // Gemini does not take thoughts back, only their signature.
            ContentBlock::Thinking { signature, .. } => {
                if let Some(signature) = ids::gemini_signature(signature) {
                    pending = Some(signature);
                }
            }
            ContentBlock::ToolUse { id, name, input } => {
                let carried = ids::decode(id);
                let mut call = Map::new();
                call.insert("name".into(), Value::String(name.clone()));
                call.insert("args".into(), args(input));
                if let Some(gemini_id) = carried.gemini_id {
                    call.insert("id".into(), Value::String(gemini_id));
                }
                let mut part = Value::Object(Map::from_iter([(
                    "functionCall".to_owned(),
                    Value::Object(call),
                )]));
                sign(&mut part, pending.take().or(carried.signature.as_deref()));
                parts.push(part);
            }
            _ => {}
        }
    }
    // A signature after the last part (Gemini's empty closing part) goes back
    // on the last part, unless that one is signed already.
    if let Some(last) = parts.last_mut() {
        sign(last, pending);
    }
    parts
}

fn sign(part: &mut Value, signature: Option<&str>) {
    if let (Some(signature), Value::Object(part)) = (signature, part) {
        part.entry("thoughtSignature")
            .or_insert_with(|| Value::String(signature.to_owned()));
    }
}

/// Gemini 3 rejects a model turn whose first call is unsigned (history from
/// another model, or a client that dropped the id); the documented skip value
/// passes the validator. Later calls of the turn need no signature.
fn sign_first_call(parts: &mut [Value]) {
    if let Some(Value::Object(call)) = parts.iter_mut().find(|p| p.get("functionCall").is_some()) {
        call.entry("thoughtSignature")
            .or_insert_with(|| Value::String(ids::SKIP_SIGNATURE.to_owned()));
    }
}

/// `functionCall.args` is a Struct: an object.
fn args(input: &Value) -> Value {
    match input {
        Value::Object(_) => input.clone(),
        Value::Null => json!({}),
        other => json!({ "input": other }),
    }
}

fn block_text(block: &ContentBlock) -> Option<&str> {
    match block {
        ContentBlock::Text { text, .. } => Some(text),
        _ => None,
    }
}

/// Gemini rejects empty text parts.
fn text_part(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({ "text": text }))
}

/// Base64 images go inline; URL images as `fileData` (Gemini fetches public
/// URLs, see the file-input-methods guide), with a MIME type when the URL
/// shows one.
fn image_part(source: &ImageSource) -> Option<Value> {
    match source {
        ImageSource::Base64 { media_type, data } => Some(json!({
            "inlineData": { "mimeType": media_type, "data": data }
        })),
        ImageSource::Url { url } => {
            let mut file = Map::new();
            if let Some(mime) = mime_from_url(url) {
                file.insert("mimeType".into(), Value::String(mime.to_owned()));
            }
            file.insert("fileUri".into(), Value::String(url.clone()));
            Some(json!({ "fileData": file }))
        }
        ImageSource::Unknown(_) => None,
    }
}

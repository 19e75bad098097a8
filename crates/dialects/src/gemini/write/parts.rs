//! The parts of each Gemini turn, from the blocks of the request read in
//! place: function responses paired with their calls by name, signatures
//! moved onto the part they belong to, and the tools as declarations.

use std::borrow::Cow;
use std::collections::HashMap;

use super::super::{cleaned, ids};
use super::{Declaration, Part, Text};
use crate::anthropic::view::{
    BlockView, ContentView, ImageView, JsonStr, RequestView, ToolResultView,
};
use crate::anthropic::Role;
use crate::json_writer::JoinedText;

/// `tool_use` id → function name, for every call in the conversation.
pub(super) fn tool_calls<'a>(request: &RequestView<'a>) -> HashMap<Cow<'a, str>, Cow<'a, str>> {
    let mut calls = HashMap::new();
    for message in request
        .messages
        .iter()
        .filter(|m| m.role == Role::Assistant)
    {
        if let ContentView::Blocks(blocks) = &message.content {
            for block in blocks {
                if let BlockView::ToolUse { id, name, .. } = block {
                    calls.insert(id.decoded(), name.decoded());
                }
            }
        }
    }
    calls
}

/// Function responses first (Gemini pairs them with the previous turn's
/// calls), then images returned by tools, then the rest in order.
pub(super) fn user_parts<'p, 'a>(
    blocks: &'p [BlockView<'a>],
    calls: &HashMap<Cow<'a, str>, Cow<'a, str>>,
) -> Vec<Part<'p, 'a>> {
    let mut responses = Vec::new();
    let mut tool_images = Vec::new();
    let mut rest = Vec::new();
    for block in blocks {
        match block {
            BlockView::Text { text } => rest.extend(non_empty(text).map(|text| Part::Text {
                text: Text::Client(text),
                signature: None,
            })),
            BlockView::Image { source } => rest.extend(image_part(source)),
            BlockView::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let text = match content {
                    Some(ToolResultView::Text(text)) => Text::Client(text),
                    Some(ToolResultView::Blocks(inner)) => {
                        Text::Joined(JoinedText::join(inner.iter().filter_map(text_of), "\n"))
                    }
                    None => Text::Joined(JoinedText::default()),
                };
                let id = tool_use_id.decoded();
                let Some(name) = calls.get(&id) else {
                    // No call to pair with: Gemini would reject a stray functionResponse.
                    let mut orphan = JoinedText::default();
                    orphan.push_str(&format!("[result of tool call {id}]\n"));
                    match &text {
                        Text::Client(text) => orphan.push(text),
                        Text::Joined(text) => orphan.push_joined(text),
                    }
                    rest.push(Part::Text {
                        text: Text::Joined(orphan),
                        signature: None,
                    });
                    continue;
                };
                responses.push(Part::Response {
                    name: name.clone(),
                    text,
                    is_error: is_error.unwrap_or(false),
                    id: ids::decode(&id).gemini_id,
                });
                if let Some(ToolResultView::Blocks(inner)) = content {
                    for block in inner {
                        if let BlockView::Image { source } = block {
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

pub(super) fn model_parts<'p, 'a>(blocks: &'p [BlockView<'a>]) -> Vec<Part<'p, 'a>> {
    let mut parts: Vec<Part> = Vec::new();
    // A thinking block's Gemini signature belongs to the part after it: the
    // text or call it was minted with.
    let mut pending: Option<Cow<'a, str>> = None;
    for block in blocks {
        match block {
            BlockView::Text { text } => {
                if let Some(text) = non_empty(text) {
                    parts.push(Part::Text {
                        text: Text::Client(text),
                        signature: pending.take(),
                    });
                }
            }
            // Gemini does not take thoughts back, only their signature.
            BlockView::Thinking { signature } => {
                let signature = signature.decoded();
                if let Some(gemini) = ids::gemini_signature(&signature) {
                    pending = Some(match &signature {
                        Cow::Borrowed(whole) => Cow::Borrowed(&whole[whole.len() - gemini.len()..]),
                        Cow::Owned(_) => Cow::Owned(gemini.to_owned()),
                    });
                }
            }
            BlockView::ToolUse { id, name, input } => {
                let carried = ids::decode(&id.decoded());
                parts.push(Part::Call {
                    name,
                    input: *input,
                    id: carried.gemini_id,
                    signature: pending.take().or(carried.signature.map(Cow::Owned)),
                });
            }
            _ => {}
        }
    }
    // A signature after the last part (Gemini's empty closing part) goes back
    // on the last part, unless that one is signed already.
    if let Some(Part::Text { signature, .. } | Part::Call { signature, .. }) = parts.last_mut() {
        if signature.is_none() {
            *signature = pending;
        }
    }
    parts
}

/// Gemini 3 rejects a model turn whose first call is unsigned (history from
/// another model, or a client that dropped the id); the documented skip value
/// passes the validator. Later calls of the turn need no signature.
pub(super) fn sign_first_call(parts: &mut [Part<'_, '_>]) {
    if let Some(Part::Call { signature, .. }) =
        parts.iter_mut().find(|p| matches!(p, Part::Call { .. }))
    {
        signature.get_or_insert(Cow::Borrowed(ids::SKIP_SIGNATURE));
    }
}

/// Client tools as `functionDeclarations`; Anthropic server tools (web
/// search, code execution…) have no Gemini function form and are left out.
pub(super) fn declarations<'p, 'a>(request: &'p RequestView<'a>) -> Vec<Declaration<'p, 'a>> {
    request
        .tools
        .iter()
        .flatten()
        .filter(|tool| matches!(tool.kind.as_deref(), None | Some("custom")))
        .map(|tool| Declaration {
            name: &tool.name,
            description: tool.description.as_ref().filter(|d| !d.is_empty()),
            parameters: tool
                .input_schema
                .and_then(|raw| cleaned::parameters(raw.get())),
        })
        .collect()
}

pub(super) fn image_part<'p, 'a>(source: &'p ImageView<'a>) -> Option<Part<'p, 'a>> {
    (!matches!(source, ImageView::Unknown)).then_some(Part::Image(source))
}

pub(super) fn text_of<'p, 'a>(block: &'p BlockView<'a>) -> Option<&'p JsonStr<'a>> {
    match block {
        BlockView::Text { text } => Some(text),
        _ => None,
    }
}

/// Gemini rejects empty text parts.
pub(super) fn non_empty<'p, 'a>(text: &'p JsonStr<'a>) -> Option<&'p JsonStr<'a>> {
    (!text.is_empty()).then_some(text)
}

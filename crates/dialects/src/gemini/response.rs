//! A whole Gemini `generateContent` response → an Anthropic message.
//!
//! Parts become blocks with the same rules the stream translator follows:
//! consecutive thoughts form one thinking block, consecutive texts one text
//! block, each function call one `tool_use`, and a thought signature ends up
//! on a thinking block (opened empty when none is open) which it then closes.

use super::ids::{self, ToolIds};
use super::wire::{self, GenerateContentResponse, Part};
use crate::anthropic::{ContentBlock, MessagesResponse, StopReason};
use crate::translate::TranslateError;

pub(super) fn translate(
    body: &[u8],
    model: &str,
    id: &str,
) -> Result<MessagesResponse, TranslateError> {
    let response: GenerateContentResponse = serde_json::from_slice(body)
        .map_err(|e| TranslateError(format!("Gemini response is not valid JSON: {e}")))?;
    if let Some(error) = &response.error {
        return Err(TranslateError(format!("Gemini error: {}", error.text())));
    }
    let usage = response
        .usage_metadata
        .as_ref()
        .map(|u| u.to_usage())
        .unwrap_or_default();
    let Some(candidate) = response.first_candidate() else {
        // No candidate: the prompt was blocked (or nothing came back at all).
        let stop = match response.block_reason() {
            Some(_) => StopReason::Refusal,
            None => StopReason::EndTurn,
        };
        return Ok(MessagesResponse::new(
            id.into(),
            model.into(),
            Vec::new(),
            stop,
            usage,
        ));
    };
    let mut blocks = Blocks::new(id);
    for part in candidate.parts() {
        blocks.push(part);
    }
    let stop = wire::stop_reason(
        candidate.finish_reason.as_deref().unwrap_or("STOP"),
        blocks.saw_tool_use,
    );
    Ok(MessagesResponse::new(
        id.into(),
        model.into(),
        blocks.content,
        stop,
        usage,
    ))
}

struct Blocks {
    content: Vec<ContentBlock>,
    ids: ToolIds,
    /// The last block is a thinking block that more thoughts may extend.
    thinking_open: bool,
    saw_tool_use: bool,
}

impl Blocks {
    fn new(message_id: &str) -> Self {
        Blocks {
            content: Vec::new(),
            ids: ToolIds::new(message_id),
            thinking_open: false,
            saw_tool_use: false,
        }
    }

    fn push(&mut self, part: &Part) {
        if let Some(call) = &part.function_call {
            // The call's signature goes on a thinking block just before it,
            // and into the id's memory (see `ids`).
            if let Some(signature) = part.signature() {
                self.signature(signature);
            }
            let id = self.ids.mint(call.id.as_deref(), part.signature());
            self.content.push(ContentBlock::ToolUse {
                id,
                name: call.name.clone(),
                input: call.args_value(),
            });
            self.thinking_open = false;
            self.saw_tool_use = true;
            return;
        }
        let text = part.text.as_deref().unwrap_or_default();
        if part.is_thought() {
            self.thinking(text);
            if let Some(signature) = part.signature() {
                self.signature(signature);
            }
        } else {
            // A signature on a text part covers the thoughts before it.
            if let Some(signature) = part.signature() {
                self.signature(signature);
            }
            self.text(text);
        }
    }

    fn thinking(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.thinking_open {
            if let Some(ContentBlock::Thinking { thinking, .. }) = self.content.last_mut() {
                thinking.push_str(text);
                return;
            }
        }
        self.content.push(ContentBlock::Thinking {
            thinking: text.to_owned(),
            signature: String::new(),
        });
        self.thinking_open = true;
    }

    fn signature(&mut self, gemini: &str) {
        if !self.thinking_open {
            self.content.push(ContentBlock::Thinking {
                thinking: String::new(),
                signature: String::new(),
            });
        }
        if let Some(ContentBlock::Thinking { signature, .. }) = self.content.last_mut() {
            *signature = ids::thinking_signature(gemini);
        }
        self.thinking_open = false;
    }

    fn text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.thinking_open = false;
        if let Some(ContentBlock::Text { text: last, .. }) = self.content.last_mut() {
            last.push_str(text);
            return;
        }
        self.content.push(ContentBlock::text(text));
    }
}

//! A Messages request, read in place, written as a Chat Completions body in
//! one pass (the rules are in `request.rs` and `messages.rs`' docs): texts go
//! out as the client's string literals, tool schemas as its raw JSON, and a
//! tool call's `arguments` is its input's JSON text as the client wrote it.

use super::request::{reasoning_effort, ModelFamily};
use crate::anthropic::view::{
    BlockView, ContentView, ImageView, JsonStr, MessageView, RequestView, ToolResultView,
};
use crate::anthropic::{Role, ToolChoice};
use crate::json_writer::{JoinedText, JsonWriter};

/// The Chat Completions body for `request`, sent to `model`; `size` is the
/// request's size, to size the buffer once.
pub(super) fn body(request: &RequestView<'_>, model: &str, size: usize) -> Vec<u8> {
    let settings = &request.settings;
    let family = ModelFamily::of(model);
    let mut w = JsonWriter::with_capacity(size + size / 8);
    w.open_object();
    w.field_str("model", model);
    w.key("messages");
    messages(request, &mut w);
    if let Some(max_tokens) = settings.max_tokens {
        w.key(if family.is_reasoning() {
            "max_completion_tokens"
        } else {
            "max_tokens"
        });
        w.value(&max_tokens);
    }
    if !family.is_reasoning() {
        if let Some(temperature) = settings.temperature {
            w.key("temperature");
            w.value(&temperature);
        }
        if let Some(top_p) = settings.top_p {
            w.key("top_p");
            w.value(&top_p);
        }
    }
    if let Some(stop) = settings.stop_sequences.as_ref().filter(|s| !s.is_empty()) {
        w.key("stop");
        w.value(stop);
    }
    tools(request, &mut w);
    if family != ModelFamily::OpenAiNonReasoning {
        if let Some(effort) = reasoning_effort(settings) {
            w.field_str("reasoning_effort", effort);
        }
    }
    if settings.is_stream() {
        w.key("stream");
        w.raw("true");
        // Without this OpenAI sends no usage at all in a stream.
        w.key("stream_options");
        w.raw(r#"{"include_usage":true}"#);
    }
    w.close_object();
    w.finish()
}

fn tools(request: &RequestView<'_>, w: &mut JsonWriter) {
    // Server tools (web search…) have no input schema and no OpenAI equivalent.
    let tools = request.tools.iter().flatten();
    if !tools.clone().any(|tool| tool.input_schema.is_some()) {
        // `tool_choice` without `tools` is a 400 at OpenAI.
        return;
    }
    w.key("tools");
    w.open_array();
    for tool in tools {
        let Some(parameters) = tool.input_schema else {
            continue;
        };
        w.open_object();
        w.field_str("type", "function");
        w.key("function");
        w.open_object();
        w.key("name");
        w.json_str(&tool.name);
        w.key("parameters");
        w.raw(parameters.get());
        if let Some(description) = tool.description.as_ref().filter(|d| !d.is_empty()) {
            w.key("description");
            w.json_str(description);
        }
        w.close_object();
        w.close_object();
    }
    w.close_array();
    let Some(choice) = &request.settings.tool_choice else {
        return;
    };
    let disable_parallel = match choice {
        ToolChoice::Auto {
            disable_parallel_tool_use,
        } => {
            w.field_str("tool_choice", "auto");
            *disable_parallel_tool_use
        }
        ToolChoice::Any {
            disable_parallel_tool_use,
        } => {
            w.field_str("tool_choice", "required");
            *disable_parallel_tool_use
        }
        ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => {
            w.key("tool_choice");
            w.value(&serde_json::json!({"type": "function", "function": {"name": name}}));
            *disable_parallel_tool_use
        }
        ToolChoice::None => {
            w.field_str("tool_choice", "none");
            None
        }
    };
    if disable_parallel == Some(true) {
        w.key("parallel_tool_calls");
        w.raw("false");
    }
}

fn messages(request: &RequestView<'_>, w: &mut JsonWriter) {
    w.open_array();
    if let Some(system) = system_text(request.system.as_ref()) {
        w.open_object();
        w.field_str("role", "system");
        w.key("content");
        system.write(w);
        w.close_object();
    }
    for message in &request.messages {
        match message.role {
            Role::System => system_message(message, w),
            Role::Assistant => assistant_message(message, w),
            Role::User => user_message(&message.content, w),
        }
    }
    w.close_array();
}

/// The system prompt as one text: a string unless empty, or every text
/// block (empty ones too) joined with blank lines, if there is one.
fn system_text(system: Option<&ContentView<'_>>) -> Option<JoinedText> {
    match system? {
        ContentView::Text(text) => {
            (!text.is_empty()).then(|| JoinedText::join(std::iter::once(text), ""))
        }
        ContentView::Blocks(blocks) => {
            let mut texts = blocks.iter().filter_map(text_of).peekable();
            texts.peek()?;
            Some(JoinedText::join(texts, "\n\n"))
        }
    }
}

fn system_message(message: &MessageView<'_>, w: &mut JsonWriter) {
    let text = joined_text(&message.content.blocks());
    if !text.is_empty() {
        w.open_object();
        w.field_str("role", "system");
        w.key("content");
        text.write(w);
        w.close_object();
    }
}

fn assistant_message(message: &MessageView<'_>, w: &mut JsonWriter) {
    let blocks = message.content.blocks();
    let text = joined_text(&blocks);
    let mut calls = blocks.iter().filter_map(|block| match block {
        BlockView::ToolUse { id, name, input } => Some((id, name, input)),
        _ => None,
    });
    let has_calls = calls.clone().next().is_some();
    if text.is_empty() && !has_calls {
        // Only thinking (or nothing): an empty assistant turn would be rejected.
        return;
    }
    w.open_object();
    w.field_str("role", "assistant");
    w.key("content");
    if text.is_empty() {
        w.raw("null");
    } else {
        text.write(w);
    }
    if has_calls {
        w.key("tool_calls");
        w.open_array();
        for (id, name, input) in calls.by_ref() {
            w.open_object();
            w.key("id");
            w.json_str(id);
            w.field_str("type", "function");
            w.key("function");
            w.open_object();
            w.key("name");
            w.json_str(name);
            // The tool input as the JSON string OpenAI expects (`{}` when absent).
            let arguments = input.map_or("null", |raw| raw.get());
            w.field_str(
                "arguments",
                if arguments == "null" { "{}" } else { arguments },
            );
            w.close_object();
            w.close_object();
        }
        w.close_array();
    }
    w.close_object();
}

/// A piece of a user message: text, or an image URL.
enum Part<'p, 'a> {
    Text(Piece<'p, 'a>),
    Image(Piece<'p, 'a>),
}

/// A string: the client's, or one put together here.
enum Piece<'p, 'a> {
    Client(&'p JsonStr<'a>),
    Joined(JoinedText),
}

impl Piece<'_, '_> {
    fn write(&self, w: &mut JsonWriter) {
        match self {
            Piece::Client(text) => w.json_str(text),
            Piece::Joined(text) => text.write(w),
        }
    }

    fn push_to(&self, joined: &mut JoinedText) {
        match self {
            Piece::Client(text) => joined.push(text),
            Piece::Joined(text) => joined.push_joined(text),
        }
    }
}

fn user_message(content: &ContentView<'_>, w: &mut JsonWriter) {
    let blocks = match content {
        ContentView::Text(text) => {
            if !text.is_empty() {
                w.open_object();
                w.field_str("role", "user");
                w.key("content");
                w.json_str(text);
                w.close_object();
            }
            return;
        }
        ContentView::Blocks(blocks) => blocks,
    };
    let mut result_images = Vec::new();
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            BlockView::ToolResult {
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
                w.open_object();
                w.field_str("role", "tool");
                w.key("tool_call_id");
                w.json_str(tool_use_id);
                w.key("content");
                text.write(w);
                w.close_object();
                if !images.is_empty() {
                    let mut label = JoinedText::default();
                    label.push_str("Images from the result of tool call ");
                    label.push(tool_use_id);
                    label.push_str(":");
                    result_images.push(Part::Text(Piece::Joined(label)));
                    result_images.extend(images);
                }
            }
            BlockView::Text { text } if !text.is_empty() => {
                parts.push(Part::Text(Piece::Client(text)));
            }
            BlockView::Image { source } => parts.extend(image_part(source)),
            // Thinking in a user turn, documents, server-tool blocks: nothing OpenAI can take.
            _ => {}
        }
    }
    result_images.append(&mut parts);
    write_user_content(&result_images, w);
}

/// A plain string when every part is text (the form every server accepts),
/// else the array of parts; nothing when there is nothing to send.
fn write_user_content(parts: &[Part<'_, '_>], w: &mut JsonWriter) {
    if parts.is_empty() {
        return;
    }
    w.open_object();
    w.field_str("role", "user");
    w.key("content");
    if parts.iter().all(|p| matches!(p, Part::Text(_))) {
        let mut joined = JoinedText::default();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                joined.push_str("\n\n");
            }
            if let Part::Text(text) = part {
                text.push_to(&mut joined);
            }
        }
        joined.write(w);
    } else {
        w.open_array();
        for part in parts {
            w.open_object();
            match part {
                Part::Text(text) => {
                    w.field_str("type", "text");
                    w.key("text");
                    text.write(w);
                }
                Part::Image(url) => {
                    w.field_str("type", "image_url");
                    w.key("image_url");
                    w.open_object();
                    w.key("url");
                    url.write(w);
                    w.close_object();
                }
            }
            w.close_object();
        }
        w.close_array();
    }
    w.close_object();
}

fn tool_result_text<'p, 'a>(
    content: Option<&'p ToolResultView<'a>>,
    is_error: bool,
    has_images: bool,
) -> Piece<'p, 'a> {
    let text = match content {
        Some(ToolResultView::Text(text)) if !is_error && !has_images => {
            return Piece::Client(text);
        }
        Some(ToolResultView::Text(text)) => JoinedText::join(std::iter::once(text), ""),
        Some(ToolResultView::Blocks(blocks)) => {
            JoinedText::join(blocks.iter().filter_map(text_of), "\n")
        }
        None => JoinedText::default(),
    };
    let mut text = text;
    if has_images {
        if !text.is_empty() {
            text.push_str("\n");
        }
        text.push_str("(this result's images follow in the next user message)");
    }
    if is_error {
        // Tool messages have no error flag: say it in the text so the model knows it failed.
        let mut error = JoinedText::default();
        error.push_str(if text.is_empty() { "Error" } else { "Error: " });
        error.push_joined(&text);
        text = error;
    }
    Piece::Joined(text)
}

fn tool_result_images<'p, 'a>(content: Option<&'p ToolResultView<'a>>) -> Vec<Part<'p, 'a>> {
    match content {
        Some(ToolResultView::Blocks(blocks)) => blocks
            .iter()
            .filter_map(|block| match block {
                BlockView::Image { source } => image_part(source),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An `image_url` part: base64 sources become `data:` URLs.
fn image_part<'p, 'a>(source: &'p ImageView<'a>) -> Option<Part<'p, 'a>> {
    let url = match source {
        ImageView::Base64 { media_type, data } => {
            let mut url = JoinedText::default();
            url.push_str("data:");
            url.push(media_type);
            url.push_str(";base64,");
            url.push(data);
            Piece::Joined(url)
        }
        ImageView::Url { url } => Piece::Client(url),
        ImageView::Unknown => return None,
    };
    Some(Part::Image(url))
}

fn text_of<'p, 'a>(block: &'p BlockView<'a>) -> Option<&'p JsonStr<'a>> {
    match block {
        BlockView::Text { text } => Some(text),
        _ => None,
    }
}

/// Text blocks joined with blank lines; empty and other blocks left out.
fn joined_text(blocks: &[BlockView<'_>]) -> JoinedText {
    JoinedText::join(
        blocks.iter().filter_map(text_of).filter(|t| !t.is_empty()),
        "\n\n",
    )
}

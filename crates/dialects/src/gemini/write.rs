//! A Messages request, read in place, written as a Gemini `generateContent`
//! body (the rules are in `contents.rs`' and `request.rs`' docs): texts,
//! images and tool inputs go out as the client wrote them; only the tool
//! schemas are rebuilt, cleaned to Gemini's subset.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::request::{generation_config, model_name, tool_config};
use crate::anthropic::view::{ContentView, ImageView, JsonStr, RequestView};
use crate::anthropic::Role;
use crate::json_writer::{JoinedText, JsonWriter};
use crate::translate::{TranslateError, WireRequest};

mod parts;
use parts::{
    declarations, model_parts, non_empty, sign_first_call, text_of, tool_calls, user_parts,
};

pub(super) fn generate(
    request: &RequestView<'_>,
    model: &str,
    size: usize,
) -> Result<WireRequest, TranslateError> {
    let model = model_name(model)?;
    let conversation = Conversation::of(request)?;
    let mut w = JsonWriter::with_capacity(size + size / 8);
    w.open_object();
    let has_tools = conversation.write(&mut w);
    if let Some(config) = generation_config(&request.settings, model) {
        w.key("generationConfig");
        w.value(&config);
    }
    if has_tools {
        if let Some(config) = tool_config(request.settings.tool_choice.as_ref()) {
            w.key("toolConfig");
            w.value(&config);
        }
    }
    w.close_object();
    let (method, query) = if request.settings.is_stream() {
        ("streamGenerateContent", Some(String::from("alt=sse")))
    } else {
        ("generateContent", None)
    };
    Ok(WireRequest {
        path: format!("/v1beta/models/{model}:{method}"),
        query,
        body: w.finish(),
    })
}

pub(super) fn count_tokens(
    request: &RequestView<'_>,
    model: &str,
    size: usize,
) -> Result<WireRequest, TranslateError> {
    let model = model_name(model)?;
    let conversation = Conversation::of(request)?;
    let mut w = JsonWriter::with_capacity(size + size / 8);
    w.open_object();
    w.key("generateContentRequest");
    w.open_object();
    conversation.write(&mut w);
    // countTokens wants the model inside the embedded request too.
    w.field_str("model", &format!("models/{model}"));
    w.close_object();
    w.close_object();
    Ok(WireRequest {
        path: format!("/v1beta/models/{model}:countTokens"),
        query: None,
        body: w.finish(),
    })
}

/// `contents`, `systemInstruction` and `tools`, ready to write.
struct Conversation<'p, 'a> {
    system: Vec<&'p JsonStr<'a>>,
    turns: Vec<(&'static str, Vec<Part<'p, 'a>>)>,
    tools: Vec<Declaration<'p, 'a>>,
}

/// A client tool as a Gemini function declaration.
struct Declaration<'p, 'a> {
    name: &'p JsonStr<'a>,
    description: Option<&'p JsonStr<'a>>,
    parameters: Option<Arc<str>>,
}

/// One Gemini part.
enum Part<'p, 'a> {
    Text {
        text: Text<'p, 'a>,
        signature: Option<Cow<'a, str>>,
    },
    Image(&'p ImageView<'a>),
    Call {
        name: &'p JsonStr<'a>,
        input: Option<&'a RawValue>,
        id: Option<String>,
        signature: Option<Cow<'a, str>>,
    },
    Response {
        name: Cow<'a, str>,
        text: Text<'p, 'a>,
        is_error: bool,
        id: Option<String>,
    },
}

enum Text<'p, 'a> {
    Client(&'p JsonStr<'a>),
    Joined(JoinedText),
}

impl Text<'_, '_> {
    fn write(&self, w: &mut JsonWriter) {
        match self {
            Text::Client(text) => w.json_str(text),
            Text::Joined(text) => text.write(w),
        }
    }
}

impl<'p, 'a> Conversation<'p, 'a> {
    fn of(request: &'p RequestView<'a>) -> Result<Self, TranslateError> {
        let mut system: Vec<&JsonStr> = match &request.system {
            Some(ContentView::Text(text)) => non_empty(text).into_iter().collect(),
            Some(ContentView::Blocks(blocks)) => blocks
                .iter()
                .filter_map(text_of)
                .filter_map(non_empty)
                .collect(),
            None => Vec::new(),
        };
        let calls = tool_calls(request);
        let mut turns: Vec<(&str, Vec<Part>)> = Vec::new();
        for message in &request.messages {
            let (role, parts) = match (&message.role, &message.content) {
                // Claude Code sends system entries inside `messages`: they join the instruction.
                (Role::System, ContentView::Text(text)) => {
                    system.extend(non_empty(text));
                    continue;
                }
                (Role::System, ContentView::Blocks(blocks)) => {
                    system.extend(blocks.iter().filter_map(text_of).filter_map(non_empty));
                    continue;
                }
                (Role::User, ContentView::Text(text)) => (
                    "user",
                    non_empty(text)
                        .map(|text| Part::Text {
                            text: Text::Client(text),
                            signature: None,
                        })
                        .into_iter()
                        .collect(),
                ),
                (Role::User, ContentView::Blocks(blocks)) => ("user", user_parts(blocks, &calls)),
                (Role::Assistant, ContentView::Text(text)) => (
                    "model",
                    non_empty(text)
                        .map(|text| Part::Text {
                            text: Text::Client(text),
                            signature: None,
                        })
                        .into_iter()
                        .collect(),
                ),
                (Role::Assistant, ContentView::Blocks(blocks)) => ("model", model_parts(blocks)),
            };
            if parts.is_empty() {
                continue;
            }
            match turns.last_mut() {
                Some((last, merged)) if *last == role => merged.extend(parts),
                _ => turns.push((role, parts)),
            }
        }
        if turns.is_empty() {
            return Err(TranslateError(String::from(
                "the request has no message content Gemini can take (messages are empty)",
            )));
        }
        for (role, parts) in &mut turns {
            if *role == "model" {
                sign_first_call(parts);
            }
        }
        Ok(Conversation {
            system,
            turns,
            tools: declarations(request),
        })
    }

    /// Writes the members; whether there are tools.
    fn write(&self, w: &mut JsonWriter) -> bool {
        w.key("contents");
        w.open_array();
        for (role, parts) in &self.turns {
            w.open_object();
            w.field_str("role", role);
            w.key("parts");
            w.open_array();
            for part in parts {
                write_part(part, w);
            }
            w.close_array();
            w.close_object();
        }
        w.close_array();
        if !self.system.is_empty() {
            w.key("systemInstruction");
            w.open_object();
            w.key("parts");
            w.open_array();
            for text in &self.system {
                w.open_object();
                w.key("text");
                w.json_str(text);
                w.close_object();
            }
            w.close_array();
            w.close_object();
        }
        if self.tools.is_empty() {
            return false;
        }
        w.key("tools");
        w.open_array();
        w.open_object();
        w.key("functionDeclarations");
        w.open_array();
        for tool in &self.tools {
            w.open_object();
            w.key("name");
            w.json_str(tool.name);
            if let Some(description) = tool.description {
                w.key("description");
                w.json_str(description);
            }
            if let Some(parameters) = &tool.parameters {
                w.key("parameters");
                w.raw(parameters);
            }
            w.close_object();
        }
        w.close_array();
        w.close_object();
        w.close_array();
        true
    }
}

fn write_part(part: &Part<'_, '_>, w: &mut JsonWriter) {
    w.open_object();
    match part {
        Part::Text { text, signature } => {
            w.key("text");
            text.write(w);
            if let Some(signature) = signature {
                w.field_str("thoughtSignature", signature);
            }
        }
        Part::Image(image) => write_image(image, w),
        Part::Call {
            name,
            input,
            id,
            signature,
        } => {
            w.key("functionCall");
            w.open_object();
            w.key("name");
            w.json_str(name);
            // `functionCall.args` is a Struct: an object.
            w.key("args");
            match input.map(|raw| raw.get()) {
                None | Some("null") => w.raw("{}"),
                Some(object) if object.starts_with('{') => w.raw(object),
                Some(other) => {
                    w.open_object();
                    w.key("input");
                    w.raw(other);
                    w.close_object();
                }
            }
            if let Some(id) = id {
                w.field_str("id", id);
            }
            w.close_object();
            if let Some(signature) = signature {
                w.field_str("thoughtSignature", signature);
            }
        }
        Part::Response {
            name,
            text,
            is_error,
            id,
        } => {
            w.key("functionResponse");
            w.open_object();
            w.field_str("name", name);
            w.key("response");
            w.open_object();
            w.key(if *is_error { "error" } else { "output" });
            text.write(w);
            w.close_object();
            if let Some(id) = id {
                w.field_str("id", id);
            }
            w.close_object();
        }
    }
    w.close_object();
}

/// Base64 images go inline; URL images as `fileData`, with a MIME type
/// when the URL shows one.
fn write_image(image: &ImageView<'_>, w: &mut JsonWriter) {
    match image {
        ImageView::Base64 { media_type, data } => {
            w.key("inlineData");
            w.open_object();
            w.key("mimeType");
            w.json_str(media_type);
            w.key("data");
            w.json_str(data);
            w.close_object();
        }
        ImageView::Url { url } => {
            w.key("fileData");
            w.open_object();
            if let Some(mime) = mime_from_url(&url.decoded()) {
                w.field_str("mimeType", mime);
            }
            w.key("fileUri");
            w.json_str(url);
            w.close_object();
        }
        // Never made into a part.
        ImageView::Unknown => {}
    }
}

pub(super) fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    let extension = path.rsplit_once('.').map(|(_, ext)| ext)?;
    Some(match extension {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

//! A Messages request read in place: strings stay the client's JSON string
//! literals and tool schemas and inputs stay raw JSON, borrowed from the
//! request's bytes, so a translator can write them out again without
//! decoding, copying into owned values and encoding them back.
//!
//! It takes exactly what [`MessagesRequest`] takes: a block that does not
//! fit its type's fields is an unknown block (the owned types' `Unknown`
//! fallback), and what the owned parse rejects is rejected here too. The
//! settings (model, limits, sampling, tool choice, thinking) are small and
//! read into an owned [`MessagesRequest`] without messages, system or
//! tools.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{MessagesRequest, Role, Thinking, ToolChoice};

mod block;

/// A JSON string: the client's literal (quotes and escapes included), or
/// a decoded string where the literal was not at hand.
#[derive(Debug, Clone)]
pub enum JsonStr<'a> {
    Literal(&'a str),
    Decoded(Cow<'a, str>),
}

impl<'a> JsonStr<'a> {
    /// `raw` if it is a string.
    fn from_raw(raw: &'a RawValue) -> Option<Self> {
        let literal = raw.get();
        literal
            .starts_with('"')
            .then_some(JsonStr::Literal(literal))
    }

    pub fn is_empty(&self) -> bool {
        match self {
            JsonStr::Literal(literal) => literal.len() == 2,
            JsonStr::Decoded(text) => text.is_empty(),
        }
    }

    /// The string's value.
    pub fn decoded(&self) -> Cow<'a, str> {
        match self {
            JsonStr::Literal(literal) => {
                let inner = &literal[1..literal.len() - 1];
                if inner.contains('\\') {
                    Cow::Owned(serde_json::from_str(literal).unwrap_or_default())
                } else {
                    Cow::Borrowed(inner)
                }
            }
            JsonStr::Decoded(text) => text.clone(),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        JsonStr::from_raw(raw).ok_or_else(|| de::Error::invalid_type(unexpected(raw), &"a string"))
    }
}

fn unexpected(raw: &RawValue) -> de::Unexpected<'_> {
    match raw.get().as_bytes().first() {
        Some(b'{') => de::Unexpected::Map,
        Some(b'[') => de::Unexpected::Seq,
        Some(b't' | b'f') => de::Unexpected::Other("a boolean"),
        Some(b'n') => de::Unexpected::Unit,
        _ => de::Unexpected::Other("a number"),
    }
}

/// A `POST /v1/messages` body, read in place.
#[derive(Debug)]
pub struct RequestView<'a> {
    /// Everything but `messages`, `system` and `tools` (those are empty).
    pub settings: MessagesRequest,
    pub messages: Vec<MessageView<'a>>,
    pub system: Option<ContentView<'a>>,
    pub tools: Option<Vec<ToolView<'a>>>,
}

impl<'a> RequestView<'a> {
    /// Reads `body` as [`MessagesRequest`] would.
    pub fn parse(body: &'a [u8]) -> Result<Self, serde_json::Error> {
        if has_surrogate_escape(body) {
            // Strings kept as literals are not decoded, so a lone surrogate
            // would pass unseen: the owned parse decides (rare: most clients
            // write non-ASCII as UTF-8).
            serde_json::from_slice::<MessagesRequest>(body)?;
        }
        // Checked as UTF-8 once here, so the strings and raw values kept
        // below are not checked again one by one.
        let wire: Wire<'a> = match std::str::from_utf8(body) {
            Ok(text) => serde_json::from_str(text)?,
            Err(_) => serde_json::from_slice(body)?,
        };
        Ok(RequestView {
            settings: MessagesRequest {
                model: wire.model,
                messages: Vec::new(),
                system: None,
                max_tokens: wire.max_tokens,
                stop_sequences: wire.stop_sequences,
                stream: wire.stream,
                temperature: wire.temperature,
                top_p: wire.top_p,
                top_k: wire.top_k,
                tools: None,
                tool_choice: wire.tool_choice,
                thinking: wire.thinking,
                metadata: None,
                output_config: wire.output_config,
            },
            messages: wire.messages,
            system: wire.system,
            tools: wire.tools,
        })
    }
}

/// Whether `body` has a `\uD800`–`\uDFFF` escape (or what looks like one).
fn has_surrogate_escape(body: &[u8]) -> bool {
    memchr::memmem::find_iter(body, b"\\u").any(|at| {
        matches!(body.get(at + 2), Some(b'd' | b'D'))
            && matches!(
                body.get(at + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    })
}

#[derive(Deserialize)]
struct Wire<'a> {
    model: String,
    #[serde(default, borrow)]
    messages: Vec<MessageView<'a>>,
    #[serde(default, borrow)]
    system: Option<ContentView<'a>>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    top_k: Option<u32>,
    #[serde(default, borrow)]
    tools: Option<Vec<ToolView<'a>>>,
    #[serde(default)]
    tool_choice: Option<ToolChoice>,
    #[serde(default)]
    thinking: Option<Thinking>,
    #[allow(dead_code)] // read so that it is checked as JSON, as the owned parse does
    #[serde(default)]
    metadata: Option<IgnoredAny>,
    #[serde(default)]
    output_config: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct MessageView<'a> {
    pub role: Role,
    #[serde(borrow)]
    pub content: ContentView<'a>,
}

/// Message content or a system prompt: a string or an array of blocks.
#[derive(Debug)]
pub enum ContentView<'a> {
    Text(JsonStr<'a>),
    Blocks(Vec<BlockView<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for ContentView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContentVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ContentVisitor<'a> {
            type Value = ContentView<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(ContentView::Text(JsonStr::Decoded(Cow::Borrowed(text))))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(ContentView::Text(JsonStr::Decoded(Cow::Owned(
                    text.to_owned(),
                ))))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(ContentView::Text(JsonStr::Decoded(Cow::Owned(text))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(block) = seq.next_element()? {
                    blocks.push(block);
                }
                Ok(ContentView::Blocks(blocks))
            }
        }
        deserializer.deserialize_any(ContentVisitor(std::marker::PhantomData))
    }
}

impl<'a> ContentView<'a> {
    /// The blocks (a string is one text block).
    pub fn blocks(&self) -> Cow<'_, [BlockView<'a>]> {
        match self {
            ContentView::Text(text) => Cow::Owned(vec![BlockView::Text { text: text.clone() }]),
            ContentView::Blocks(blocks) => Cow::Borrowed(blocks),
        }
    }
}

/// A content block. Fields a translator never reads (`cache_control`, the
/// thoughts themselves) are checked and left out.
#[derive(Debug, Clone)]
pub enum BlockView<'a> {
    Text {
        text: JsonStr<'a>,
    },
    Image {
        source: ImageView<'a>,
    },
    ToolUse {
        id: JsonStr<'a>,
        name: JsonStr<'a>,
        /// `None` when absent; `null` stays `null`.
        input: Option<&'a RawValue>,
    },
    ToolResult {
        tool_use_id: JsonStr<'a>,
        content: Option<ToolResultView<'a>>,
        is_error: Option<bool>,
    },
    Thinking {
        signature: JsonStr<'a>,
    },
    RedactedThinking,
    /// Any other block, or a known type whose fields do not fit.
    Unknown,
}

#[derive(Debug, Clone)]
pub enum ImageView<'a> {
    Base64 {
        media_type: JsonStr<'a>,
        data: JsonStr<'a>,
    },
    Url {
        url: JsonStr<'a>,
    },
    Unknown,
}

/// A tool result's content: a string or blocks.
#[derive(Debug, Clone)]
pub enum ToolResultView<'a> {
    Text(JsonStr<'a>),
    Blocks(Vec<BlockView<'a>>),
}

#[derive(Debug, Deserialize)]
pub struct ToolView<'a> {
    #[serde(borrow)]
    pub name: JsonStr<'a>,
    #[serde(default, borrow)]
    pub description: Option<JsonStr<'a>>,
    /// Absent (or `null`) for server tools.
    #[serde(default, borrow)]
    pub input_schema: Option<&'a RawValue>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

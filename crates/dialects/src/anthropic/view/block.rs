//! One content block read in place: its known fields kept as raw JSON
//! first, then checked against what its type needs, so a block that does
//! not fit its type becomes an unknown block, as in the owned parse.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{BlockView, ImageView, JsonStr, ToolResultView};

/// The fields of one block, each as the client wrote it.
#[derive(Default)]
struct BlockFields<'a> {
    values: [Option<&'a RawValue>; FIELDS.len()],
    /// Fields named twice, by index: the owned parse rejects a variant
    /// whose own field repeats.
    repeated: u16,
}

const FIELDS: [&str; 13] = [
    "type",
    "text",
    "cache_control",
    "source",
    "id",
    "name",
    "input",
    "tool_use_id",
    "content",
    "is_error",
    "thinking",
    "signature",
    "data",
];
const TYPE: usize = 0;
const TEXT: usize = 1;
const SOURCE: usize = 3;
const ID: usize = 4;
const NAME: usize = 5;
const INPUT: usize = 6;
const TOOL_USE_ID: usize = 7;
const CONTENT: usize = 8;
const IS_ERROR: usize = 9;
const THINKING: usize = 10;
const SIGNATURE: usize = 11;
const DATA: usize = 12;

/// An object key, borrowed unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BlockView<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BlockVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for BlockVisitor<'a> {
            type Value = BlockView<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a content block")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = BlockFields::default();
                while let Some(Key(key)) = map.next_key()? {
                    let Some(index) = FIELDS.iter().position(|f| *f == key) else {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    };
                    let value: &'a RawValue = map.next_value::<&'de RawValue>()?;
                    if fields.values[index].replace(value).is_some() {
                        fields.repeated |= 1 << index;
                    }
                }
                Ok(fields.block())
            }
            // Anything but an object is an unknown block, as in the owned parse.
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(BlockView::Unknown)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(BlockView::Unknown)
            }
        }
        deserializer.deserialize_any(BlockVisitor(std::marker::PhantomData))
    }
}

impl<'a> BlockFields<'a> {
    fn block(self) -> BlockView<'a> {
        if self.repeated & (1 << TYPE) != 0 {
            return BlockView::Unknown;
        }
        let kind = string(self.values[TYPE]).map(|k| k.decoded());
        // The fields each type reads (`cache_control` may be any JSON).
        let (own, block) = match kind.as_deref() {
            Some("text") => (&[TEXT, 2][..], self.text_block()),
            Some("image") => (&[SOURCE][..], self.image()),
            Some("tool_use") => (&[ID, NAME, INPUT][..], self.tool_use()),
            Some("tool_result") => (&[TOOL_USE_ID, CONTENT, IS_ERROR][..], self.tool_result()),
            Some("thinking") => (&[THINKING, SIGNATURE][..], self.thinking_block()),
            Some("redacted_thinking") => (
                &[DATA][..],
                string(self.values[DATA]).map(|_| BlockView::RedactedThinking),
            ),
            _ => (&[][..], None),
        };
        if own.iter().any(|i| self.repeated & (1 << i) != 0) {
            return BlockView::Unknown;
        }
        block.unwrap_or(BlockView::Unknown)
    }

    fn text_block(&self) -> Option<BlockView<'a>> {
        Some(BlockView::Text {
            text: string(self.values[TEXT])?,
        })
    }

    fn image(&self) -> Option<BlockView<'a>> {
        Some(BlockView::Image {
            source: ImageView::from_raw(self.values[SOURCE]?),
        })
    }

    fn tool_use(&self) -> Option<BlockView<'a>> {
        Some(BlockView::ToolUse {
            id: string(self.values[ID])?,
            name: string(self.values[NAME])?,
            input: self.values[INPUT],
        })
    }

    fn tool_result(&self) -> Option<BlockView<'a>> {
        let content = match self.values[CONTENT].filter(|raw| raw.get() != "null") {
            None => None,
            Some(raw) => Some(ToolResultView::from_raw(raw)?),
        };
        Some(BlockView::ToolResult {
            tool_use_id: string(self.values[TOOL_USE_ID])?,
            content,
            is_error: optional_bool(self.values[IS_ERROR])?,
        })
    }

    fn thinking_block(&self) -> Option<BlockView<'a>> {
        string(self.values[THINKING])?;
        let signature = match self.values[SIGNATURE] {
            None => JsonStr::Decoded(Cow::Borrowed("")),
            Some(raw) => JsonStr::from_raw(raw)?,
        };
        Some(BlockView::Thinking { signature })
    }
}

/// A required string field.
fn string(raw: Option<&RawValue>) -> Option<JsonStr<'_>> {
    JsonStr::from_raw(raw?)
}

/// An optional boolean: `Some(None)` when absent or `null`, `None` when
/// it is something else.
fn optional_bool(raw: Option<&RawValue>) -> Option<Option<bool>> {
    match raw.map(RawValue::get) {
        None | Some("null") => Some(None),
        Some("true") => Some(Some(true)),
        Some("false") => Some(Some(false)),
        Some(_) => None,
    }
}

impl<'a> ImageView<'a> {
    fn from_raw(raw: &'a RawValue) -> Self {
        #[derive(Deserialize)]
        struct Source<'a> {
            #[serde(rename = "type", borrow)]
            kind: Option<&'a RawValue>,
            #[serde(borrow)]
            media_type: Option<&'a RawValue>,
            #[serde(borrow)]
            data: Option<&'a RawValue>,
            #[serde(borrow)]
            url: Option<&'a RawValue>,
        }
        let Ok(source) = serde_json::from_str::<Source<'a>>(raw.get()) else {
            return ImageView::Unknown;
        };
        let kind = source.kind.and_then(JsonStr::from_raw).map(|k| k.decoded());
        let image = match kind.as_deref() {
            Some("base64") => (|| {
                Some(ImageView::Base64 {
                    media_type: string(source.media_type)?,
                    data: string(source.data)?,
                })
            })(),
            Some("url") => string(source.url).map(|url| ImageView::Url { url }),
            _ => None,
        };
        image.unwrap_or(ImageView::Unknown)
    }
}

impl<'a> ToolResultView<'a> {
    fn from_raw(raw: &'a RawValue) -> Option<Self> {
        if let Some(text) = JsonStr::from_raw(raw) {
            return Some(ToolResultView::Text(text));
        }
        if raw.get().starts_with('[') {
            return serde_json::from_str(raw.get())
                .ok()
                .map(ToolResultView::Blocks);
        }
        None
    }
}

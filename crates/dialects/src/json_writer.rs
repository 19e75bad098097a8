//! A JSON document written front to back into one buffer, taking the
//! client's string literals and raw JSON as they are: what a translated
//! request body is written with, so nothing is built twice.

use serde::Serialize;

use crate::anthropic::view::JsonStr;

/// Writes one JSON document; the caller opens and closes containers in
/// order, and the writer puts the commas and colons.
#[derive(Debug, Default)]
pub(crate) struct JsonWriter {
    out: Vec<u8>,
    /// Per open container: whether it has no member yet.
    empty: Vec<bool>,
    /// A key was written and its value is next.
    after_key: bool,
}

impl JsonWriter {
    pub fn with_capacity(capacity: usize) -> Self {
        JsonWriter {
            out: Vec::with_capacity(capacity),
            ..JsonWriter::default()
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    fn separate(&mut self) {
        if std::mem::take(&mut self.after_key) {
            return;
        }
        if let Some(empty) = self.empty.last_mut() {
            if !std::mem::take(empty) {
                self.out.push(b',');
            }
        }
    }

    pub fn open_object(&mut self) {
        self.separate();
        self.out.push(b'{');
        self.empty.push(true);
    }

    pub fn close_object(&mut self) {
        self.out.push(b'}');
        self.empty.pop();
    }

    pub fn open_array(&mut self) {
        self.separate();
        self.out.push(b'[');
        self.empty.push(true);
    }

    pub fn close_array(&mut self) {
        self.out.push(b']');
        self.empty.pop();
    }

    /// An object key (`key` has nothing to escape).
    pub fn key(&mut self, key: &str) {
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.after_key = true;
    }

    /// A string, escaped.
    pub fn str(&mut self, text: &str) {
        self.separate();
        // Writing a `str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.out, text);
    }

    /// A string as the client wrote it.
    pub fn json_str(&mut self, text: &JsonStr<'_>) {
        match text {
            JsonStr::Literal(literal) => self.raw(literal),
            JsonStr::Decoded(text) => self.str(text),
        }
    }

    /// Valid JSON, as it is.
    pub fn raw(&mut self, json: &str) {
        self.separate();
        self.out.extend_from_slice(json.as_bytes());
    }

    /// Any serialisable value (small ones: settings, numbers).
    pub fn value<T: Serialize + ?Sized>(&mut self, value: &T) {
        self.separate();
        let _ = serde_json::to_writer(&mut self.out, value);
    }

    /// `"key": "text"`.
    pub fn field_str(&mut self, key: &str, text: &str) {
        self.key(key);
        self.str(text);
    }
}

/// Text joined from pieces, kept escaped, so joining strings never decodes
/// them.
#[derive(Debug, Default)]
pub(crate) struct JoinedText {
    /// The escaped contents, without quotes.
    escaped: String,
}

impl JoinedText {
    pub fn is_empty(&self) -> bool {
        self.escaped.is_empty()
    }

    pub fn push(&mut self, text: &JsonStr<'_>) {
        match text {
            JsonStr::Literal(literal) => self.escaped.push_str(&literal[1..literal.len() - 1]),
            JsonStr::Decoded(text) => self.push_str(text),
        }
    }

    pub fn push_str(&mut self, text: &str) {
        if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.escaped.push_str(text);
        } else {
            let quoted = serde_json::to_string(text).unwrap_or_default();
            self.escaped.push_str(&quoted[1..quoted.len() - 1]);
        }
    }

    /// `pieces` joined with `separator`.
    pub fn join<'p, 'a: 'p>(
        pieces: impl IntoIterator<Item = &'p JsonStr<'a>>,
        separator: &str,
    ) -> Self {
        let mut joined = JoinedText::default();
        for (i, piece) in pieces.into_iter().enumerate() {
            if i > 0 {
                joined.push_str(separator);
            }
            joined.push(piece);
        }
        joined
    }

    pub fn push_joined(&mut self, other: &JoinedText) {
        self.escaped.push_str(&other.escaped);
    }

    /// Writes the text as a string.
    pub fn write(&self, writer: &mut JsonWriter) {
        writer.separate();
        writer.out.push(b'"');
        writer.out.extend_from_slice(self.escaped.as_bytes());
        writer.out.push(b'"');
    }
}

//! Server-sent events as they appear on the wire.

use bytes::Bytes;

/// One server-sent event: an optional `event:` name and its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` line, if any.
    pub event: Option<String>,
    /// The data; each line of it becomes its own `data:` line.
    pub data: String,
}

impl SseEvent {
    /// An event with an `event: NAME` line.
    pub fn named(event: impl Into<String>, data: impl Into<String>) -> SseEvent {
        SseEvent {
            event: Some(event.into()),
            data: data.into(),
        }
    }

    /// An event with only `data:` (OpenAI and Gemini streams).
    pub fn data(data: impl Into<String>) -> SseEvent {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }

    /// A named event whose data is `json` in compact form (Anthropic streams).
    pub fn json(event: &str, json: &serde_json::Value) -> SseEvent {
        SseEvent::named(event, json.to_string())
    }

    /// The event's wire form: `event: NAME\ndata: DATA\n\n`.
    pub fn encode(&self) -> Bytes {
        self.encode_with("\n")
    }

    /// The wire form with the given line ending (`"\n"` or `"\r\n"`, both valid SSE).
    pub fn encode_with(&self, eol: &str) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(event) = &self.event {
            out.push_str("event: ");
            out.push_str(event);
            out.push_str(eol);
        }
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line.strip_suffix('\r').unwrap_or(line));
            out.push_str(eol);
        }
        out.push_str(eol);
        Bytes::from(out)
    }
}

/// Splits `body` into pieces that each end with `delimiter` (the last piece may
/// not, if the body does not). Used to stream fixture files event by event.
pub(crate) fn split_after(body: &Bytes, delimiter: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at + delimiter.len() <= body.len() {
        if body[at..].starts_with(delimiter) {
            at += delimiter.len();
            pieces.push(body.slice(start..at));
            start = at;
        } else {
            at += 1;
        }
    }
    if start < body.len() {
        pieces.push(body.slice(start..));
    }
    pieces
}

#[cfg(test)]
mod tests;

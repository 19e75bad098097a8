//! What a traced request's answer says about itself, read as it passes:
//! the model that answered and why it stopped. Nothing else of the answer
//! is read or kept.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// The answer's model and finish reasons, in any client API's shape.
#[derive(Debug, Default)]
pub struct AnswerScan {
    carry: Vec<u8>,
    skipping: bool,
    /// `model` (Anthropic, OpenAI, Ollama) or `modelVersion` (Gemini): the first seen.
    pub model: Option<String>,
    /// `stop_reason`, `finish_reason`, `finishReason` or `done_reason`, each
    /// distinct value once, in order.
    pub finish_reasons: Vec<String>,
}

/// Longest line looked at; longer ones (a whole answer on one line) are
/// read up to here, which is where these fields are in practice.
const LINE_LIMIT: usize = 64 * 1024;
/// Longest value kept.
const VALUE_LIMIT: usize = 128;
const MAX_REASONS: usize = 8;

type Finders = LazyLock<Vec<Finder<'static>>>;

static FINISH_KEYS: Finders = LazyLock::new(|| {
    [
        "\"stop_reason\"",
        "\"finish_reason\"",
        "\"finishReason\"",
        "\"done_reason\"",
    ]
    .iter()
    .map(|key| Finder::new(key.as_bytes()))
    .collect()
});
static MODEL_KEYS: Finders = LazyLock::new(|| {
    ["\"model\"", "\"modelVersion\""]
        .iter()
        .map(|key| Finder::new(key.as_bytes()))
        .collect()
});

impl AnswerScan {
    pub fn feed(&mut self, data: &[u8]) {
        let mut rest = data;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            if self.carry.is_empty() {
                self.line(line);
            } else {
                let mut whole = std::mem::take(&mut self.carry);
                whole.extend_from_slice(line);
                self.line(&whole);
            }
        }
        if self.skipping {
            return;
        }
        if self.carry.len() + rest.len() > LINE_LIMIT {
            // Read what fits of a long line once, then skip to its end.
            let mut head = std::mem::take(&mut self.carry);
            head.extend_from_slice(&rest[..LINE_LIMIT.saturating_sub(head.len()).min(rest.len())]);
            self.line(&head);
            self.skipping = true;
        } else {
            self.carry.extend_from_slice(rest);
        }
    }

    /// Reads what is left of the last line.
    pub fn finish(&mut self) {
        if !self.skipping && !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.line(&last);
        }
    }

    fn line(&mut self, line: &[u8]) {
        if self.model.is_none() {
            self.model = MODEL_KEYS.iter().find_map(|key| string_after(line, key));
        }
        for key in FINISH_KEYS.iter() {
            let Some(reason) = string_after(line, key) else {
                continue;
            };
            if self.finish_reasons.len() < MAX_REASONS && !self.finish_reasons.contains(&reason) {
                self.finish_reasons.push(reason);
            }
        }
    }
}

/// The string value of the first `key` of `line` that is a JSON key (not
/// text inside a string, where its quotes would be escaped); `None` for
/// `null`, another type, or a value longer than [`VALUE_LIMIT`].
fn string_after(line: &[u8], key: &Finder<'_>) -> Option<String> {
    let mut from = 0;
    while let Some(at) = key.find(&line[from..]) {
        let start = from + at;
        from = start + key.needle().len();
        if start > 0 && line[start - 1] == b'\\' {
            continue;
        }
        let rest = line[from..].trim_ascii_start().strip_prefix(b":")?;
        let value = serde_json::Deserializer::from_slice(rest)
            .into_iter::<Option<String>>()
            .next()?
            .ok()
            .flatten()?;
        return (!value.is_empty() && value.len() <= VALUE_LIMIT).then_some(value);
    }
    None
}

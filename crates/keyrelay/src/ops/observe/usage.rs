//! Token usage read from an answer as it passes, in any client API's shape.

use std::sync::LazyLock;

/// Reads token usage from a response as it passes: whole JSON documents and
/// SSE or NDJSON events, in any client API's shape. Only lines that mention
/// usage are parsed; a line longer than [`UsageScan::LINE_LIMIT`] is skipped.
#[derive(Default)]
pub(super) struct UsageScan {
    carry: Vec<u8>,
    skipping: bool,
    input: Option<u64>,
    output: Option<u64>,
}

impl UsageScan {
    const LINE_LIMIT: usize = 1 << 20;

    pub fn feed(&mut self, data: &[u8]) {
        let mut rest = data;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            if self.skipping {
                self.skipping = false;
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
        if !self.skipping {
            if self.carry.len() + rest.len() > Self::LINE_LIMIT {
                self.carry.clear();
                self.skipping = true;
            } else {
                self.carry.extend_from_slice(rest);
            }
        }
    }

    pub fn finish(&mut self) -> (Option<u64>, Option<u64>) {
        if !self.skipping && !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.line(&last);
        }
        (self.input, self.output)
    }

    /// Reads the usage object a line holds, parsing that object alone (the
    /// rest of a whole answer is never parsed again).
    fn line(&mut self, line: &[u8]) {
        let line = line.strip_prefix(b"data:").unwrap_or(line);
        let (input, output) = match usage_object(line) {
            Some(usage) => usage.counts(),
            // Ollama's native API counts at the top level.
            None if memchr::memmem::find(line, b"eval_count\"").is_some() => (
                number_after(line, b"\"prompt_eval_count\""),
                number_after(line, b"\"eval_count\""),
            ),
            None => (None, None),
        };
        self.input = input.or(self.input);
        self.output = output.or(self.output);
    }
}

/// The object after the first `"usage"` or `"usageMetadata"` key of a line.
fn usage_object(line: &[u8]) -> Option<UsageCounts> {
    static USAGE: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\"usage"));
    let mut from = 0;
    while let Some(at) = USAGE.find(&line[from..]) {
        let after = &line[from + at + b"\"usage".len()..];
        let rest = after
            .strip_prefix(b"\"")
            .or_else(|| after.strip_prefix(b"Metadata\""));
        if let Some(usage) = rest.and_then(value_of::<Option<UsageCounts>>).flatten() {
            return Some(usage);
        }
        from += at + 1;
    }
    None
}

/// The JSON value right after the key `key` (quotes included) in `text`.
fn value_after<T: serde::de::DeserializeOwned>(text: &[u8], key: &[u8]) -> Option<T> {
    let at = memchr::memmem::find(text, key)? + key.len();
    value_of(&text[at..])
}

/// The JSON value after the `:` that follows a key.
fn value_of<T: serde::de::DeserializeOwned>(after_key: &[u8]) -> Option<T> {
    let rest = after_key.trim_ascii_start().strip_prefix(b":")?;
    serde_json::Deserializer::from_slice(rest)
        .into_iter::<T>()
        .next()?
        .ok()
}

fn number_after(text: &[u8], key: &[u8]) -> Option<u64> {
    value_after(text, key)
}

/// A usage object of any dialect: Anthropic and OpenAI Responses
/// (`input_tokens`), OpenAI Chat (`prompt_tokens`), Gemini
/// (`usageMetadata.promptTokenCount`). Other fields are skipped unread.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageCounts {
    #[serde(rename = "input_tokens")]
    input_tokens: Option<u64>,
    #[serde(rename = "prompt_tokens")]
    prompt_tokens: Option<u64>,
    prompt_token_count: Option<u64>,
    #[serde(rename = "output_tokens")]
    output_tokens: Option<u64>,
    #[serde(rename = "completion_tokens")]
    completion_tokens: Option<u64>,
    candidates_token_count: Option<u64>,
    thoughts_token_count: Option<u64>,
}

impl UsageCounts {
    fn counts(&self) -> (Option<u64>, Option<u64>) {
        let input = self
            .input_tokens
            .or(self.prompt_tokens)
            .or(self.prompt_token_count);
        let output = self.output_tokens.or(self.completion_tokens).or_else(|| {
            self.candidates_token_count
                .map(|c| c + self.thoughts_token_count.unwrap_or(0))
        });
        (input, output)
    }
}

#[cfg(test)]
mod tests;

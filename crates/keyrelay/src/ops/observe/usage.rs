//! Token usage read from an answer as it passes, in any client API's shape.

use std::sync::LazyLock;

use crate::team::Usage;

/// Reads token usage from a response as it passes: whole JSON documents and
/// SSE or NDJSON events, in any client API's shape. Only lines that mention
/// usage are parsed; a line longer than [`UsageScan::LINE_LIMIT`] is skipped.
/// Counts only grow along a stream, so the largest of each is kept.
#[derive(Default)]
pub(super) struct UsageScan {
    carry: Vec<u8>,
    skipping: bool,
    /// A usage object spread over lines (a pretty-printed answer, as
    /// OpenAI writes its whole answers), from its key on, until it parses.
    open: Vec<u8>,
    seen: UsageCounts,
    found: bool,
}

impl UsageScan {
    const LINE_LIMIT: usize = 1 << 20;
    /// The most a usage object spread over lines may take.
    const OPEN_LIMIT: usize = 4 << 10;

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

    /// The usage the answer reported, priced as [`Usage`] counts it; `None`
    /// when it reported none.
    pub fn finish(&mut self) -> Option<Usage> {
        if !self.skipping && !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.line(&last);
        }
        self.found.then(|| self.seen.usage())
    }

    /// Reads the usage object a line holds, parsing that object alone (the
    /// rest of a whole answer is never parsed again).
    fn line(&mut self, line: &[u8]) {
        if !self.open.is_empty() {
            self.open.push(b'\n');
            self.open.extend_from_slice(line);
            if let Some(counts) = usage_object(&self.open) {
                self.open.clear();
                self.absorb(&counts);
            } else if self.open.len() > Self::OPEN_LIMIT {
                self.open.clear();
            }
        }
        let line = line.strip_prefix(b"data:").unwrap_or(line);
        let counts = match usage_object(line) {
            Some(usage) => usage,
            // Ollama's native API counts at the top level.
            None if memchr::memmem::find(line, b"eval_count\"").is_some() => UsageCounts {
                prompt_eval_count: number_after(line, b"\"prompt_eval_count\""),
                eval_count: number_after(line, b"\"eval_count\""),
                ..UsageCounts::default()
            },
            None => {
                // `"usage": {` ending a line: the object follows on the next lines.
                if let Some(at) = opened_usage(line) {
                    self.open = line[at..].to_vec();
                }
                return;
            }
        };
        self.absorb(&counts);
    }

    fn absorb(&mut self, counts: &UsageCounts) {
        self.found |= counts.any();
        self.seen.absorb(counts);
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

/// Where a usage key starts when its object opens at the end of `line`.
fn opened_usage(line: &[u8]) -> Option<usize> {
    let at = memchr::memmem::rfind(line, b"\"usage")?;
    let rest = line[at + b"\"usage".len()..]
        .strip_prefix(b"\"")
        .or_else(|| line[at + b"\"usage".len()..].strip_prefix(b"Metadata\""))?;
    let rest = rest.trim_ascii().strip_prefix(b":")?.trim_ascii();
    (rest == b"{").then_some(at)
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

/// A usage object of any dialect: Anthropic (`input_tokens` without the
/// cache, `cache_read_input_tokens`, `cache_creation_input_tokens`), OpenAI
/// Responses (`input_tokens` with the cache, `input_tokens_details`),
/// OpenAI Chat (`prompt_tokens` with the cache, `prompt_tokens_details`),
/// Gemini (`usageMetadata.promptTokenCount` with the cache,
/// `cachedContentTokenCount`), Ollama (`prompt_eval_count`). Other fields
/// are skipped unread.
#[derive(Debug, Clone, Default, serde::Deserialize)]
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
    #[serde(rename = "cache_read_input_tokens")]
    cache_read_input_tokens: Option<u64>,
    #[serde(rename = "cache_creation_input_tokens")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(rename = "input_tokens_details")]
    input_tokens_details: Option<Details>,
    #[serde(rename = "prompt_tokens_details")]
    prompt_tokens_details: Option<Details>,
    cached_content_token_count: Option<u64>,
    #[serde(skip)]
    prompt_eval_count: Option<u64>,
    #[serde(skip)]
    eval_count: Option<u64>,
}

/// OpenAI's split of the input: `cached_tokens` read from the cache (and,
/// from OpenRouter, `cache_write_tokens` written to it).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
}

fn larger(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

impl UsageCounts {
    fn any(&self) -> bool {
        [
            self.input_tokens,
            self.prompt_tokens,
            self.prompt_token_count,
            self.output_tokens,
            self.completion_tokens,
            self.candidates_token_count,
            self.prompt_eval_count,
            self.eval_count,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// Keeps the larger of each count.
    fn absorb(&mut self, other: &UsageCounts) {
        let details = |a: Option<Details>, b: Option<Details>| match (a, b) {
            (Some(a), Some(b)) => Some(Details {
                cached_tokens: larger(a.cached_tokens, b.cached_tokens),
                cache_write_tokens: larger(a.cache_write_tokens, b.cache_write_tokens),
            }),
            (a, b) => a.or(b),
        };
        self.input_tokens = larger(self.input_tokens, other.input_tokens);
        self.prompt_tokens = larger(self.prompt_tokens, other.prompt_tokens);
        self.prompt_token_count = larger(self.prompt_token_count, other.prompt_token_count);
        self.output_tokens = larger(self.output_tokens, other.output_tokens);
        self.completion_tokens = larger(self.completion_tokens, other.completion_tokens);
        self.candidates_token_count =
            larger(self.candidates_token_count, other.candidates_token_count);
        self.thoughts_token_count = larger(self.thoughts_token_count, other.thoughts_token_count);
        self.cache_read_input_tokens =
            larger(self.cache_read_input_tokens, other.cache_read_input_tokens);
        self.cache_creation_input_tokens = larger(
            self.cache_creation_input_tokens,
            other.cache_creation_input_tokens,
        );
        self.input_tokens_details = details(self.input_tokens_details, other.input_tokens_details);
        self.prompt_tokens_details =
            details(self.prompt_tokens_details, other.prompt_tokens_details);
        self.cached_content_token_count = larger(
            self.cached_content_token_count,
            other.cached_content_token_count,
        );
        self.prompt_eval_count = larger(self.prompt_eval_count, other.prompt_eval_count);
        self.eval_count = larger(self.eval_count, other.eval_count);
    }

    /// The counts as priced: each input token once, in its own class.
    fn usage(&self) -> Usage {
        let n = |v: Option<u64>| v.unwrap_or(0);
        let output = self
            .output_tokens
            .or(self.completion_tokens)
            .or_else(|| {
                self.candidates_token_count
                    .map(|c| c + n(self.thoughts_token_count))
            })
            .or(self.eval_count);
        let output = n(output);
        // Input that includes what the cache held: take the cache out.
        let inclusive = |total: u64, read: u64, write: u64| Usage {
            input: total.saturating_sub(read).saturating_sub(write),
            output,
            cache_read: read,
            cache_write: write,
        };
        if let Some(total) = self.prompt_token_count {
            return inclusive(total, n(self.cached_content_token_count), 0);
        }
        if let Some(total) = self.prompt_tokens {
            let d = self.prompt_tokens_details.unwrap_or_default();
            return inclusive(total, n(d.cached_tokens), n(d.cache_write_tokens));
        }
        if let (Some(total), Some(d)) = (self.input_tokens, self.input_tokens_details) {
            return inclusive(total, n(d.cached_tokens), n(d.cache_write_tokens));
        }
        Usage {
            input: n(self.input_tokens.or(self.prompt_eval_count)),
            output,
            cache_read: n(self.cache_read_input_tokens),
            cache_write: n(self.cache_creation_input_tokens),
        }
    }
}

#[cfg(test)]
mod tests;

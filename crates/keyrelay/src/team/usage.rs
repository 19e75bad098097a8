//! Token usage as keyrelay prices it: input that was not read from a cache,
//! output (thinking included), cache reads and cache writes, each counted
//! once. Providers split these differently (Anthropic's `input_tokens`
//! leaves cache tokens out; OpenAI's `prompt_tokens` and Gemini's
//! `promptTokenCount` hold the cached ones), so each source is turned into
//! this one shape before anything is priced.

use std::sync::{Arc, Mutex};

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Input tokens neither read from nor written to a cache.
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Every input token, cached or not.
    pub fn all_input(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// The usage an Anthropic usage object (the hub's own) reports.
    pub fn of_hub(usage: &dialects::anthropic::Usage) -> Usage {
        Usage {
            input: usage.input_tokens,
            output: usage.output_tokens,
            cache_read: usage.cache_read_input_tokens,
            cache_write: usage.cache_creation_input_tokens,
        }
    }

    /// The larger of each count: counts reported along a stream only grow.
    pub fn max(self, other: Usage) -> Usage {
        Usage {
            input: self.input.max(other.input),
            output: self.output.max(other.output),
            cache_read: self.cache_read.max(other.cache_read),
            cache_write: self.cache_write.max(other.cache_write),
        }
    }
}

/// Usage the hub reported for an answer translated for its client, left
/// in the response's extensions by the front; more exact than what the
/// client's own shape can say (a Chat client's `prompt_tokens` cannot tell
/// cache writes apart). A stream fills it as its events pass.
#[derive(Debug, Clone, Default)]
pub struct Reported(Arc<Mutex<Option<Usage>>>);

impl Reported {
    pub fn of(usage: Usage) -> Reported {
        Reported(Arc::new(Mutex::new(Some(usage))))
    }

    /// Takes in counts reported along a stream (they only grow).
    pub fn saw(&self, usage: Usage) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(slot.map_or(usage, |known| known.max(usage)));
    }

    pub fn get(&self) -> Option<Usage> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Usage a front estimated for an answer that reports none (Gemini's
/// embeddings): charged, and marked as an estimate.
#[derive(Debug, Clone, Copy)]
pub struct Estimated(pub Usage);

/// Marks an answer to a request for generation (not a model list or a
/// token count): one that reports no usage is charged an estimate.
#[derive(Debug, Clone, Copy)]
pub struct Generation;

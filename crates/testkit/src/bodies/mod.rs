//! Well-formed bodies in each provider's real shape, as ready-made replies.
//!
//! Token counts are fake but consistent: the prompt always counts
//! [`PROMPT_TOKENS`], and the output counts one token per piece of text (the text
//! split after each space), which is also the number of streamed text deltas.

mod anthropic;
mod gemini;
mod ollama;
mod openai;

use std::sync::atomic::{AtomicU64, Ordering};

pub use anthropic::{anthropic_stream_events, anthropic_tool_stream_events, ANTHROPIC_MODEL};
pub use gemini::GEMINI_MODEL;
pub use ollama::OLLAMA_MODEL;
pub use openai::{openai_chat_stream_events, openai_chat_tool_stream_events, OPENAI_MODEL};

/// Input tokens every helper body reports.
pub const PROMPT_TOKENS: u64 = 10;

/// `text` split after each space; the pieces concatenate back to `text`.
fn pieces(text: &str) -> Vec<&str> {
    text.split_inclusive(' ').collect()
}

/// Output tokens reported for `text`.
fn output_tokens(text: &str) -> u64 {
    pieces(text).len() as u64
}

/// A number for unique-looking ids (`msg_…`, `chatcmpl-…`) within one test process.
fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A fixed creation time (2025-01-01T00:00:00Z): tests never read the clock.
const CREATED: u64 = 1_735_689_600;

#[cfg(test)]
mod tests;

//! Ollama `/api/chat` bodies and NDJSON streams.

use serde_json::{json, Value};

use super::{output_tokens, pieces, PROMPT_TOKENS};
use crate::reply::Reply;

/// The model the Ollama helpers report.
pub const OLLAMA_MODEL: &str = "gpt-oss:20b";

/// A fixed creation time (tests never read the clock).
const CREATED_AT: &str = "2025-01-01T00:00:00.000000Z";

impl Reply {
    /// 200 with a non-streaming `/api/chat` response (`"stream": false`) saying `text`.
    pub fn ollama_chat(text: &str) -> Reply {
        Reply::json(200, done(text, output_tokens(text)))
    }

    /// 200 NDJSON stream of `text` as `/api/chat` sends it: one `"done": false` line
    /// per piece of text, then a `"done": true` line with `done_reason` and counts.
    pub fn ollama_stream(text: &str) -> Reply {
        let mut lines: Vec<Value> = pieces(text)
            .into_iter()
            .map(|piece| {
                json!({
                    "model": OLLAMA_MODEL,
                    "created_at": CREATED_AT,
                    "message": {"role": "assistant", "content": piece},
                    "done": false,
                })
            })
            .collect();
        lines.push(done("", output_tokens(text)));
        Reply::ndjson(lines)
    }
}

/// The final object: the whole `text` (empty when streaming) and the counters.
fn done(text: &str, eval_count: u64) -> Value {
    json!({
        "model": OLLAMA_MODEL,
        "created_at": CREATED_AT,
        "message": {"role": "assistant", "content": text},
        "done_reason": "stop",
        "done": true,
        "total_duration": 500_000_000_u64,
        "load_duration": 20_000_000_u64,
        "prompt_eval_count": PROMPT_TOKENS,
        "prompt_eval_duration": 80_000_000_u64,
        "eval_count": eval_count,
        "eval_duration": 400_000_000_u64,
    })
}

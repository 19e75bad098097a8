//! Gemini `generateContent` bodies and `streamGenerateContent?alt=sse` streams.

use serde_json::{json, Value};

use super::{next_id, output_tokens, pieces, PROMPT_TOKENS};
use crate::reply::Reply;
use crate::sse::SseEvent;

/// The model version the Gemini helpers report.
pub const GEMINI_MODEL: &str = "gemini-2.5-flash";

impl Reply {
    /// 200 with a non-streaming `GenerateContentResponse` whose one candidate says
    /// `text`, `finishReason: "STOP"`.
    pub fn gemini_generate(text: &str) -> Reply {
        let body = response(text, Some("STOP"), output_tokens(text), &response_id());
        Reply::json(200, body)
    }

    /// 200 SSE stream of `text` as `streamGenerateContent?alt=sse` sends it: one
    /// data-only event per piece of text, each a whole `GenerateContentResponse`
    /// with cumulative `usageMetadata`, the last carrying `finishReason: "STOP"`.
    /// There is no end marker. Lines end in CRLF, as Google's endpoint sends them, so
    /// a parser that only knows `\n\n` fails here rather than in production.
    pub fn gemini_stream(text: &str) -> Reply {
        let id = response_id();
        let pieces = pieces(text);
        let count = pieces.len().max(1);
        let chunks = (0..count).map(|i| {
            let piece = pieces.get(i).copied().unwrap_or("");
            let finish = (i + 1 == count).then_some("STOP");
            let body = response(piece, finish, i as u64 + 1, &id);
            SseEvent::data(body.to_string()).encode_with("\r\n")
        });
        Reply::chunks(200, "text/event-stream", chunks)
    }
}

fn response(text: &str, finish_reason: Option<&str>, output: u64, id: &str) -> Value {
    let mut candidate = json!({
        "content": {"parts": [{"text": text}], "role": "model"},
        "index": 0,
    });
    if let Some(reason) = finish_reason {
        candidate["finishReason"] = json!(reason);
    }
    json!({
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": PROMPT_TOKENS,
            "candidatesTokenCount": output,
            "totalTokenCount": PROMPT_TOKENS + output,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": PROMPT_TOKENS}],
        },
        "modelVersion": GEMINI_MODEL,
        "responseId": id,
    })
}

fn response_id() -> String {
    format!("fakeResponse{:012}", next_id())
}

//! The provider APIs keyrelay speaks, each described once. The pure facts
//! (translator, error shape and message, stream framing, key check, token
//! counter) are in [`dialects::Dialect`]; this module adds the one fact that
//! needs the key pool's vocabulary, how each dialect's errors are
//! classified, and reads answers by it. Nothing else keeps a table per
//! dialect.

use std::time::SystemTime;

use http::{HeaderMap, StatusCode};
use keypool::Outcome;

use crate::classify::{self, Rules};
pub use dialects::anthropic::ErrorKind;
pub use dialects::{Dialect, Framing, TokenCounter};

/// How `dialect`'s errors are classified.
pub fn classification(dialect: Dialect) -> &'static Rules {
    match dialect {
        Dialect::Anthropic => &classify::ANTHROPIC,
        Dialect::OpenaiChat => &classify::OPENAI_CHAT,
        Dialect::Openrouter => &classify::OPENROUTER,
        Dialect::Gemini => &classify::GEMINI,
        Dialect::Ollama => &classify::OLLAMA,
    }
}

/// Classifies a complete upstream answer of a `dialect` provider (see
/// [`classify::classify`]).
pub fn classify(
    dialect: Dialect,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Outcome {
    classify::classify(classification(dialect), status, headers, body, now)
}

/// Classifies one event of a `dialect` provider's 200 stream (see
/// [`classify::classify_stream_event`]).
pub fn classify_stream_event(
    dialect: Dialect,
    event: Option<&str>,
    data: &[u8],
    now: SystemTime,
) -> Option<Outcome> {
    classify::classify_stream_event(classification(dialect), event, data, now)
}

/// How a response body is cut into events, by its `Content-Type`.
pub fn framing_of(headers: &HeaderMap) -> Framing {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Framing::of_content_type(content_type)
}

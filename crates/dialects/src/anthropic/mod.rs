//! Anthropic Messages: the API keyrelay's clients speak. Wire types for the
//! request, the whole response and the stream events, and [`EventEmitter`],
//! which every stream translator uses so the event sequence is always complete.

mod emit;
mod error_kind;
mod types;

pub use emit::EventEmitter;
pub use error_kind::ErrorKind;
pub use types::*;

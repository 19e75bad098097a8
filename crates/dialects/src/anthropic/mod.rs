//! Anthropic Messages: the hub every translation passes through. Wire types
//! for the request, the whole response and the stream events;
//! [`EventEmitter`], which every stream translator uses so the event sequence
//! is always complete; and [`AnthropicUpstream`], the hub request out to an
//! Anthropic-dialect provider when the client spoke another API.

#[cfg(test)]
pub(crate) mod arbitrary;
mod decode;
mod emit;
mod error_kind;
mod types;
mod upstream;
pub mod view;

pub use decode::AnthropicEvents;
pub use emit::EventEmitter;
pub use error_kind::ErrorKind;
pub use types::*;
pub use upstream::{AnthropicUpstream, DEFAULT_MAX_TOKENS, MIN_THINKING_BUDGET};

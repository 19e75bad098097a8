//! Wire types and translators between LLM provider APIs: Anthropic Messages
//! (the hub every translation passes through), each provider's own API
//! ([`Dialect`]), the client APIs keyrelay serves ([`client`]), plus
//! incremental decoders for server-sent events and newline-delimited JSON,
//! with size caps so a broken upstream cannot make keyrelay buffer without bound.
//!
//! Pure code, no I/O: bytes in, events out.
#![forbid(unsafe_code)]

pub mod anthropic;
pub mod client;
pub mod count;
pub mod dialect;
pub mod embed;
pub mod gemini;
mod json_writer;
pub mod ndjson;
pub mod ollama;
pub mod openai;
pub mod prefill;
pub mod splice;
pub mod split;
pub mod sse;
pub mod translate;

pub use dialect::{Dialect, Framing, TokenCounter};
pub use prefill::Prefill;
pub use translate::{
    ProviderRequest, StreamEncode, StreamTranslate, TranslateError, Translator, WireRequest,
};

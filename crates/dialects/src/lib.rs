//! Wire-level building blocks for LLM provider APIs: incremental decoders for
//! server-sent events and newline-delimited JSON, with size caps so a broken
//! upstream cannot make keyrelay buffer without bound.
//!
//! Pure code, no I/O: bytes in, events out.
#![forbid(unsafe_code)]

pub mod ndjson;
pub mod sse;

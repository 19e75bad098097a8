//! A scriptable fake LLM-provider upstream for keyrelay's integration tests.
//!
//! [`FakeUpstream`] is a real HTTP/1.1 server on `127.0.0.1` with a random port.
//! Each request is matched to a script by the API key it carries (see
//! [`FakeUpstream::on_key`]) and answered with the script's next [`Reply`]: a plain
//! body, a fixture file, an SSE or NDJSON stream (optionally cut or stalled part
//! way, or generated without end by [`Reply::then_repeat`]), a dropped connection,
//! or no answer at all. Every request is recorded as a [`Recorded`] so tests can
//! assert what the gateway actually sent, and [`FakeUpstream::abandoned`] counts
//! the replies the gateway went away from (how a test sees cancellation).
//!
//! [`FakeProxy`] is a plain HTTP proxy on `127.0.0.1` that records what
//! reaches it and forwards requests in absolute form to their upstream.
//!
//! [`RedisServer`] runs a real `redis-server` on a free port for the state store
//! tests (it panics with install instructions when Redis is missing).
//!
//! [`eventually`] and [`eventually_async`] wait for a condition on the tokio
//! clock instead of sleeping for a fixed time.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::{FakeUpstream, Reply};
//!
//! let upstream = FakeUpstream::start().await;
//! upstream.on_key("sk-a", [Reply::json(429, serde_json::json!({"error": "slow down"}))]);
//! upstream.on_key("sk-b", [Reply::anthropic_message("hello")]);
//! // ... point the gateway at upstream.base_url() and send a request ...
//! assert_eq!(upstream.hits("sk-b"), 0);
//! # }
//! ```
#![forbid(unsafe_code)]

mod abandon;
mod bodies;
mod eventually;
mod fixture;
mod prefill;
mod proxy;
mod recorded;
mod redis;
mod reply;
mod respond;
mod script;
mod server;
mod sse;

pub use bodies::{
    anthropic_stream_events, anthropic_tool_stream_events, openai_chat_stream_events,
    openai_chat_tool_stream_events, ANTHROPIC_MODEL, GEMINI_MODEL, OLLAMA_MODEL, OPENAI_MODEL,
    PROMPT_TOKENS,
};
pub use eventually::{eventually, eventually_async, Verdict, POLL_EVERY};
pub use fixture::{fixture_bytes, fixture_path};
pub use prefill::{prefill_of, rest_of};
pub use proxy::{FakeProxy, ProxyRequest};
pub use recorded::Recorded;
pub use redis::RedisServer;
pub use reply::Reply;
pub use server::FakeUpstream;
pub use sse::SseEvent;

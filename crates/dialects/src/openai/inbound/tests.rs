//! Unit tests for the Chat Completions request and whole-response conversions.

mod request;
mod response;

use serde_json::Value;

use super::ChatRequest;
use crate::anthropic::MessagesRequest;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn chat(request: Value) -> ChatRequest {
    serde_json::from_value(request).expect("a valid Chat request")
}

/// The hub request for a Chat request given as JSON.
fn hub(request: Value) -> MessagesRequest {
    chat(request).to_messages().expect("the request translates")
}

/// The hub request as JSON, the way a provider translator sees its fields.
fn hub_json(request: Value) -> Value {
    serde_json::to_value(hub(request)).expect("serialises")
}

fn hub_error(request: Value) -> String {
    chat(request)
        .to_messages()
        .expect_err("the request is refused")
        .0
}

//! Unit tests for the request and whole-response translation.

mod borrowed;
mod messages;
mod request;
mod response;

use serde_json::{json, Value};

use crate::anthropic::MessagesRequest;
use crate::openai::OpenAiChat;
use crate::translate::Translator;

/// The Chat Completions body for a Messages request given as JSON.
fn body_for(model: &str, request: Value) -> Value {
    let request: MessagesRequest =
        serde_json::from_value(request).expect("a valid Messages request");
    OpenAiChat
        .request(&request, model)
        .expect("request translates")
        .body
}

fn body(request: Value) -> Value {
    body_for("gpt-4o", request)
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

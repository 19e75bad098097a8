//! Unit tests for the Responses request, answer and stream conversions.

mod events;
mod output;
mod request;
mod tools;

use std::sync::Arc;

use serde_json::{json, Value};

use super::{RequestEcho, ResponsesMeta, ResponsesRequest, Translated};

fn fixture_text(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).expect("fixture is JSON")
}

/// The Codex CLI request (see `fixtures/SOURCES-responses.md`).
fn codex() -> Value {
    fixture("responses_request_codex.json")
}

fn parse(request: Value) -> ResponsesRequest {
    serde_json::from_value(request).expect("a valid Responses request")
}

fn translated(request: Value) -> Translated {
    parse(request)
        .to_messages()
        .expect("the request translates")
}

/// The hub request as JSON, the way a provider translator sees its fields.
fn hub_json(request: Value) -> Value {
    serde_json::to_value(translated(request).request).expect("serialises")
}

fn refused(request: Value) -> String {
    parse(request)
        .to_messages()
        .expect_err("the request is refused")
        .0
}

/// The meta of an answer to `request`.
fn meta_for(request: Value) -> ResponsesMeta {
    ResponsesMeta {
        id: String::from("resp_TEST"),
        model: String::from("client-model"),
        created_at: 1_735_689_600,
        echo: Arc::new(translated(request).echo),
    }
}

fn plain_meta(summaries: bool) -> ResponsesMeta {
    ResponsesMeta {
        id: String::from("resp_TEST"),
        model: String::from("client-model"),
        created_at: 1_735_689_600,
        echo: Arc::new(RequestEcho {
            summaries,
            ..RequestEcho::default()
        }),
    }
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

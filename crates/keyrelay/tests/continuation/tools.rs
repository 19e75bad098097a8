//! A break inside a tool call: the call's events are held until it is
//! whole, so the client never sees half of it; the continuation makes the
//! call again, whole, and the client gets exactly that one call.

use keyrelay::server::RunningGateway;
use serde_json::{json, Value};
use testkit::{
    anthropic_tool_stream_events, openai_chat_tool_stream_events, prefill_of, FakeUpstream, Reply,
};

use crate::answer::events;
use crate::cases::{gateway, BREAKS, GOOD};
use crate::fronts::Front;
use crate::providers::{self, Provider};
use crate::support::client;

const SAID: &str = "Let me read it.";
const ARGUMENTS: [&str; 3] = ["{\"path\": ", "\"notes", ".txt\"}"];

fn path_schema() -> Value {
    json!({"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]})
}

/// Asks for a file read, with the `read_file` tool declared.
async fn ask(front: Front, gateway: &RunningGateway, model: &str) -> String {
    let user = "Read notes.txt";
    let (path, body) = match front {
        Front::Messages => (
            "/v1/messages".to_owned(),
            json!({"model": model, "max_tokens": 256, "stream": true,
                "tools": [{"name": "read_file", "description": "Reads a file", "input_schema": path_schema()}],
                "messages": [{"role": "user", "content": user}]}),
        ),
        Front::Chat => (
            "/v1/chat/completions".to_owned(),
            json!({"model": model, "stream": true,
                "tools": [{"type": "function", "function": {"name": "read_file", "parameters": path_schema()}}],
                "messages": [{"role": "user", "content": user}]}),
        ),
        Front::Responses => (
            "/v1/responses".to_owned(),
            json!({"model": model, "stream": true,
                "tools": [{"type": "function", "name": "read_file", "parameters": path_schema()}],
                "input": [{"role": "user", "content": [{"type": "input_text", "text": user}]}]}),
        ),
        Front::Gemini => (
            format!("/v1beta/models/{model}:streamGenerateContent?alt=sse"),
            json!({"contents": [{"role": "user", "parts": [{"text": user}]}],
                "tools": [{"functionDeclarations": [{"name": "read_file", "parameters":
                    {"type": "OBJECT", "properties": {"path": {"type": "STRING"}}}}]}]}),
        ),
    };
    let response = client()
        .post(format!("{}{path}", gateway.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.expect("the stream ends cleanly")
}

/// The text and the tool calls (name, parsed arguments) a client reads.
fn calls(front: Front, body: &str) -> (String, Vec<(String, Value)>) {
    let mut text = String::new();
    let mut calls: Vec<(String, String)> = Vec::new();
    for (_, data) in events(body) {
        if data == "[DONE]" {
            continue;
        }
        let event: Value = serde_json::from_str(&data).unwrap();
        assert!(
            event.get("error").is_none() && event["type"] != "error",
            "{body}"
        );
        match front {
            Front::Messages => match event["type"].as_str().unwrap() {
                "content_block_start" if event["content_block"]["type"] == "tool_use" => {
                    calls.push((
                        event["content_block"]["name"].as_str().unwrap().into(),
                        String::new(),
                    ));
                }
                "content_block_delta" => {
                    let delta = &event["delta"];
                    text += delta["text"].as_str().unwrap_or("");
                    if let Some(piece) = delta["partial_json"].as_str() {
                        calls.last_mut().unwrap().1 += piece;
                    }
                }
                _ => {}
            },
            Front::Chat => {
                let delta = &event["choices"][0]["delta"];
                text += delta["content"].as_str().unwrap_or("");
                for piece in delta["tool_calls"].as_array().into_iter().flatten() {
                    let index = piece["index"].as_u64().unwrap() as usize;
                    if let Some(name) = piece["function"]["name"].as_str() {
                        assert_eq!(index, calls.len(), "{body}");
                        calls.push((name.into(), String::new()));
                    }
                    calls[index].1 += piece["function"]["arguments"].as_str().unwrap_or("");
                }
            }
            Front::Responses => match event["type"].as_str().unwrap() {
                "response.output_text.delta" => text += event["delta"].as_str().unwrap(),
                "response.output_item.done" if event["item"]["type"] == "function_call" => {
                    let item = &event["item"];
                    calls.push((
                        item["name"].as_str().unwrap().into(),
                        item["arguments"].as_str().unwrap().into(),
                    ));
                }
                _ => {}
            },
            Front::Gemini => {
                for part in event["candidates"][0]["content"]["parts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    text += part["text"].as_str().unwrap_or("");
                    if let Some(call) = part.get("functionCall") {
                        calls.push((
                            call["name"].as_str().unwrap().into(),
                            call["args"].to_string(),
                        ));
                    }
                }
            }
        }
    }
    let calls = calls
        .into_iter()
        .map(|(name, arguments)| {
            let parsed = serde_json::from_str(&arguments)
                .unwrap_or_else(|e| panic!("half a call ({e}): {arguments:?}\n{body}"));
            (name, parsed)
        })
        .collect();
    (text, calls)
}

async fn one_whole_call(front: Front, provider: Provider, broken: Reply, whole: Reply) {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(BREAKS, [broken]);
    upstream.on_key_with(GOOD, move |request| {
        assert_eq!(
            prefill_of(request),
            SAID,
            "the text so far, without the cut call"
        );
        whole.clone()
    });
    let gateway = gateway(&upstream, &provider, "").await;
    let body = ask(front, &gateway, provider.model).await;
    let (text, calls) = calls(front, &body);
    assert_eq!(text, SAID, "{body}");
    assert_eq!(
        calls,
        [("read_file".to_owned(), json!({"path": "notes.txt"}))],
        "{body}"
    );
    assert_eq!(upstream.hits(GOOD), 1);
}

#[test]
fn a_break_inside_a_tool_call_yields_one_whole_call_at_every_front() {
    for front in [
        Front::Messages,
        Front::Chat,
        Front::Responses,
        Front::Gemini,
    ] {
        crate::paused(async {
            // message_start, the text block (start, 4 pieces, stop), the
            // call's start, then two of its three argument pieces.
            let broken = Reply::sse(anthropic_tool_stream_events(
                SAID,
                "toolu_cut",
                "read_file",
                &ARGUMENTS,
            ))
            .cut_after(10);
            let whole = Reply::sse(anthropic_tool_stream_events(
                "",
                "toolu_whole",
                "read_file",
                &["{\"path\": \"notes.txt\"}"],
            ));
            one_whole_call(front, providers::anthropic(), broken, whole).await;
        });
    }
}

#[test]
fn a_forwarded_chat_stream_cut_inside_a_tool_call_yields_one_whole_call() {
    crate::paused(async {
        // The role chunk, 4 pieces of text, the call's first piece, then two
        // of its three argument pieces.
        let broken = Reply::sse(openai_chat_tool_stream_events(
            SAID,
            "call_cut",
            "read_file",
            &ARGUMENTS,
        ))
        .cut_after(8);
        let whole = Reply::sse(openai_chat_tool_stream_events(
            "",
            "call_whole",
            "read_file",
            &["{\"path\": \"notes.txt\"}"],
        ));
        one_whole_call(Front::Chat, providers::openrouter(), broken, whole).await;
    });
}

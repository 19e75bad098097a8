use bytes::Bytes;
use serde_json::{json, Value};

use super::{anthropic_stream_events, openai_chat_stream_events, PROMPT_TOKENS};
use crate::reply::{Body, Reply};

/// The body a reply sends, as chunks (one for a whole body).
fn chunks(reply: &Reply) -> Vec<Bytes> {
    match &reply.body {
        Body::Full(bytes) => vec![bytes.clone()],
        Body::Chunks(chunks) => chunks.items.clone(),
        Body::Reset | Body::Hang => panic!("no body"),
    }
}

fn json_body(reply: &Reply) -> Value {
    serde_json::from_slice(&chunks(reply)[0]).expect("json body")
}

fn data_json(data: &str) -> Value {
    serde_json::from_str(data).expect("json event data")
}

#[test]
fn anthropic_stream_has_the_real_event_order_and_spells_the_text() {
    let events = anthropic_stream_events("Hello brave world");
    let names: Vec<_> = events.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for event in &events {
        assert_eq!(
            data_json(&event.data)["type"],
            event.event.as_deref().unwrap_or_default()
        );
    }
    let text: String = events
        .iter()
        .map(|e| data_json(&e.data))
        .filter(|d| d["type"] == "content_block_delta")
        .map(|d| d["delta"]["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(text, "Hello brave world");
    let start = data_json(&events[0].data);
    assert!(start["message"]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(start["message"]["usage"]["input_tokens"], PROMPT_TOKENS);
    let delta = data_json(&events[7].data);
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 3);
}

#[test]
fn anthropic_message_is_a_complete_messages_response() {
    let body = json_body(&Reply::anthropic_message("hi"));
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert_eq!(body["content"], json!([{"type": "text", "text": "hi"}]));
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["usage"]["output_tokens"], 1);
}

#[test]
fn openai_chat_has_one_stop_choice_and_usage() {
    let body = json_body(&Reply::openai_chat("two words"));
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "two words");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["total_tokens"], PROMPT_TOKENS + 2);
}

#[test]
fn openai_stream_ends_with_stop_then_done() {
    let events = openai_chat_stream_events("a b");
    assert!(events.iter().all(|e| e.event.is_none()));
    assert_eq!(events.len(), 5);
    assert_eq!(events[4].data, "[DONE]");
    let last = data_json(&events[3].data);
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    let text: String = events[..4]
        .iter()
        .map(|e| data_json(&e.data))
        .filter_map(|d| {
            d["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "a b");
}

#[test]
fn gemini_generate_has_one_stop_candidate() {
    let body = json_body(&Reply::gemini_generate("hi there"));
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["content"]["parts"][0]["text"], "hi there");
    assert_eq!(candidate["content"]["role"], "model");
    assert_eq!(candidate["finishReason"], "STOP");
    assert_eq!(body["usageMetadata"]["candidatesTokenCount"], 2);
}

#[test]
fn gemini_stream_is_crlf_framed_with_stop_on_the_last_chunk() {
    let chunks = chunks(&Reply::gemini_stream("a b"));
    assert_eq!(chunks.len(), 2);
    for chunk in &chunks {
        assert!(
            chunk.starts_with(b"data: ") && chunk.ends_with(b"\r\n\r\n"),
            "{chunk:?}"
        );
    }
    let last = std::str::from_utf8(&chunks[1]).expect("utf-8");
    let last = data_json(last.trim_start_matches("data: ").trim_end());
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 2);
}

#[test]
fn ollama_stream_ends_with_a_done_line() {
    let lines: Vec<Value> = chunks(&Reply::ollama_stream("a b"))
        .iter()
        .map(|line| serde_json::from_slice(line).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["message"]["content"], "a ");
    assert_eq!(lines[0]["done"], false);
    assert_eq!(lines[2]["done"], true);
    assert_eq!(lines[2]["done_reason"], "stop");
    assert_eq!(
        json_body(&Reply::ollama_chat("a b"))["message"]["content"],
        "a b"
    );
}

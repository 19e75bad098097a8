//! A Gemini client's requests (as the google-genai SDK writes them) read
//! into the hub, and Anthropic's documented streams written back as
//! `streamGenerateContent` chunks (see `fixtures/SOURCES-gemini-inbound.md`).

#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use dialects::anthropic::{
    AnthropicUpstream, ContentBlock, ImageSource, System, Thinking, ToolChoice,
};
use dialects::gemini::inbound::{GeminiChunks, GeminiFraming, GeminiMeta, GenerateContentRequest};
use dialects::{StreamEncode, Translator};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn request(name: &str) -> GenerateContentRequest {
    serde_json::from_slice(&fixture(name)).unwrap()
}

#[test]
fn the_genai_sdks_parallel_call_turn_reads_into_the_hub() {
    let hub = request("gemini_client_genai_tools.json")
        .to_messages("anthropic@claude-sonnet-4-5", true)
        .unwrap();
    assert_eq!(
        hub.system,
        Some(System::Text("You are a weather bot.".into()))
    );
    assert_eq!(
        (hub.max_tokens, hub.temperature, hub.stream),
        (Some(512), Some(0.2), Some(true))
    );
    // The SDK writes thinkingConfig's fields in snake_case.
    assert_eq!(
        hub.thinking,
        Some(Thinking::Enabled {
            budget_tokens: 1024
        })
    );
    assert_eq!(
        hub.tool_choice,
        Some(ToolChoice::Tool {
            name: "get_weather".into(),
            disable_parallel_tool_use: None
        })
    );
    let tools = hub.tools.unwrap();
    assert_eq!(
        tools[0].input_schema,
        Some(
            json!({"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string"}, "days": {"type": ["integer", "null"]}}})
        )
    );
    let user = hub.messages[0].content.blocks();
    assert_eq!(
        user[1],
        ContentBlock::Image {
            source: ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into()
            }
        },
        "inlineData's mime_type in snake_case, as the SDK sends it"
    );
    let calls: Vec<Value> = hub.messages[1]
        .content
        .blocks()
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
    assert_eq!(
        calls,
        [
            json!({"type": "tool_use", "id": "call_paris", "name": "get_weather", "input": {"city": "Paris"}}),
            json!({"type": "tool_use", "id": "call_tokyo", "name": "get_weather", "input": {"city": "Tokyo"}}),
        ]
    );
    let results: Vec<Value> = hub.messages[2]
        .content
        .blocks()
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect();
    assert_eq!(
        results,
        [
            json!({"type": "tool_result", "tool_use_id": "call_paris", "content": "sunny, 21 C"}),
            json!({"type": "tool_result", "tool_use_id": "call_tokyo", "content": "no station", "is_error": true}),
        ]
    );
}

#[test]
fn the_genai_sdks_json_mode_reads_into_the_hubs_output_format() {
    let hub = request("gemini_client_genai_json_schema.json")
        .to_messages("m", false)
        .unwrap();
    assert_eq!(
        hub.output_config.unwrap()["format"],
        json!({"type": "json_schema", "schema": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string"}, "ingredients": {"type": "array", "items": {"type": "string"}}}}}),
        "types in lower case, the SDK's property_ordering dropped"
    );
}

fn meta() -> GeminiMeta {
    GeminiMeta {
        model: "claude".into(),
        response_id: "r1".into(),
        include_thoughts: true,
    }
}

/// Anthropic bytes (in the given pieces) through the Anthropic reader, then Gemini chunks.
fn gemini_stream<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut stream = AnthropicUpstream.stream("claude", "msg_01TEST");
    let mut chunks = GeminiChunks::new(meta(), GeminiFraming::Sse);
    let (mut out, mut events) = (BytesMut::new(), Vec::new());
    for piece in pieces {
        events.clear();
        stream.push(piece, &mut events);
        chunks.encode(&events, &mut out);
    }
    events.clear();
    stream.finish(None, &mut events);
    chunks.encode(&events, &mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

fn data(sse: &str) -> Vec<Value> {
    sse.split("\r\n\r\n")
        .map(str::trim)
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn anthropics_tool_use_stream_is_text_chunks_then_the_whole_call_then_the_finish() {
    let bytes = fixture("anthropic_tool_use.sse");
    let chunks = data(&gemini_stream([bytes.as_slice()]));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
        .collect();
    assert!(text.starts_with("Okay, let's check the weather"), "{text}");
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["candidates"][0]["content"]["parts"][0].get("functionCall"))
        .collect();
    assert_eq!(
        calls,
        [
            &json!({"id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather",
            "args": {"location": "San Francisco, CA", "unit": "fahrenheit"}})
        ]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        last["usageMetadata"],
        json!({"promptTokenCount": 472, "candidatesTokenCount": 89, "totalTokenCount": 561})
    );
}

#[test]
fn anthropics_thinking_stream_shows_thoughts_when_asked() {
    let bytes = fixture("anthropic_thinking.sse");
    let chunks = data(&gemini_stream([bytes.as_slice()]));
    let thought = chunks
        .iter()
        .find(|c| c["candidates"][0]["content"]["parts"][0]["thought"] == true);
    assert!(thought.is_some(), "{chunks:?}");
    assert_eq!(
        chunks.last().unwrap()["candidates"][0]["finishReason"],
        "STOP"
    );
}

proptest! {
    #[test]
    fn the_gemini_stream_does_not_depend_on_how_the_bytes_are_split(cuts in proptest::collection::vec(0usize..4000, 0..12)) {
        let bytes = fixture("anthropic_tool_use.sse");
        let whole = gemini_stream([bytes.as_slice()]);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut pieces = Vec::new();
        let mut at = 0;
        for cut in cuts {
            pieces.push(&bytes[at..cut]);
            at = cut;
        }
        pieces.push(&bytes[at..]);
        prop_assert_eq!(gemini_stream(pieces), whole);
    }
}

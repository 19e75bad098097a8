#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use serde_json::{json, Value};

use super::*;
use crate::anthropic::{
    ContentBlock, Delta, ErrorBody, ImageSource, MessageDeltaBody, MessagesResponse, Role,
    StopReason, StreamEvent, System, Thinking, ToolChoice, ToolResultContent, Usage,
};
use crate::StreamEncode;

fn hub(body: Value) -> crate::anthropic::MessagesRequest {
    serde_json::from_value::<GenerateContentRequest>(body)
        .unwrap()
        .to_messages("gemini-2.5-flash", false)
        .unwrap()
}

fn refused(body: Value) -> String {
    serde_json::from_value::<GenerateContentRequest>(body)
        .unwrap()
        .to_messages("m", false)
        .unwrap_err()
        .0
}

#[test]
fn settings_become_the_hub_requests_fields_in_either_spelling() {
    let request = hub(json!({
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "system_instruction": {"parts": [{"text": "Be terse."}, {"text": "Be kind."}]},
        "generationConfig": {"maxOutputTokens": 256, "temperature": 0.4, "topP": 0.9,
            "topK": 40.0, "stopSequences": ["END"], "seed": 7},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }));
    assert_eq!(request.model, "gemini-2.5-flash");
    assert_eq!(
        request.system,
        Some(System::Text("Be terse.\n\nBe kind.".into()))
    );
    assert_eq!(request.max_tokens, Some(256));
    assert_eq!(request.temperature, Some(0.4));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.top_k, Some(40));
    assert_eq!(request.stop_sequences, Some(vec!["END".to_owned()]));
    assert_eq!(request.stream, Some(false));
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].role, Role::User);
    assert!(request.thinking.is_none() && request.tools.is_none());
}

#[test]
fn function_calls_and_responses_pair_by_id_or_by_name_and_order() {
    let request = hub(json!({"contents": [
        {"role": "user", "parts": [{"text": "Weather in Paris and Tokyo, and the time?"}]},
        {"role": "model", "parts": [
            {"functionCall": {"id": "get_weather__toolu_01A", "name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"}}},
            {"functionCall": {"id": "clock.1", "name": "now"}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"output": "rain"}}},
            {"functionResponse": {"id": "clock.1", "name": "now", "response": {"error": "no clock"}}},
            {"functionResponse": {"id": "get_weather__toolu_01A", "name": "get_weather", "response": {"temp": 21}}},
            {"text": "Thanks"}]},
    ]}));
    let calls = request.messages[1].content.blocks();
    let ids: Vec<&str> = calls
        .iter()
        .map(|b| match b {
            ContentBlock::ToolUse { id, .. } => id.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    // Gemini CLI's `{name}__` prefix comes off; a missing id comes from the
    // position; other bytes are escaped.
    assert_eq!(ids, ["toolu_01A", "toolu_gm_c1_1", "clock_2e1"]);
    let answers = request.messages[2].content.blocks();
    let results: Vec<(String, String, Option<bool>)> = answers
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => Some((
                tool_use_id.clone(),
                content.as_ref().map(ToolResultContent::text).unwrap(),
                *is_error,
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        results,
        [
            // No id: the first unanswered get_weather call… which is the one
            // the third response names by id, so that one takes the next.
            ("toolu_01A".into(), "rain".into(), None),
            ("clock_2e1".into(), "no clock".into(), Some(true)),
            ("toolu_gm_c1_1".into(), "{\"temp\":21}".into(), None),
        ]
    );
    assert_eq!(answers.last(), Some(&ContentBlock::text("Thanks")));
}

#[test]
fn a_response_without_a_call_stays_as_text() {
    let request = hub(json!({"contents": [{"role": "user", "parts": [
        {"functionResponse": {"name": "lost", "response": {"output": "42"}}}]}]}));
    assert_eq!(
        request.messages[0].content.blocks(),
        [ContentBlock::text("[result of function lost]\n42")]
    );
}

#[test]
fn images_go_inline_or_by_url_and_other_media_are_refused() {
    let request = hub(json!({"contents": [{"parts": [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"file_data": {"mime_type": "image/jpeg", "file_uri": "https://example.com/a.jpg"}}]}]}));
    assert_eq!(
        request.messages[0].content.blocks()[1..],
        [
            ContentBlock::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into()
                }
            },
            ContentBlock::Image {
                source: ImageSource::Url {
                    url: "https://example.com/a.jpg".into()
                }
            },
        ]
    );
    let pdf = refused(
        json!({"contents": [{"parts": [{"inlineData": {"mimeType": "application/pdf", "data": "JVBE"}}]}]}),
    );
    assert!(
        pdf.starts_with("contents[0]: parts[0]: inlineData of type \"application/pdf\""),
        "{pdf}"
    );
    let uploaded = refused(
        json!({"contents": [{"parts": [{"fileData": {"mimeType": "image/png",
        "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc"}}]}]}),
    );
    assert!(uploaded.contains("uploaded to Google"), "{uploaded}");
}

#[test]
fn thoughts_of_earlier_turns_are_dropped_and_turns_merge() {
    let request = hub(json!({"contents": [
        {"role": "user", "parts": [{"text": "a"}]},
        {"role": "user", "parts": [{"text": "b"}]},
        {"role": "model", "parts": [{"text": "thinking…", "thought": true}, {"text": "answer", "thoughtSignature": "c2ln"}]},
    ]}));
    assert_eq!(request.messages.len(), 2);
    assert_eq!(request.messages[0].content.blocks().len(), 2);
    assert_eq!(
        request.messages[1].content.blocks(),
        [ContentBlock::text("answer")]
    );
}

#[test]
fn declarations_become_tools_with_json_schema_and_the_calling_mode_a_tool_choice() {
    let body = |mode: Value| {
        json!({"contents": [{"parts": [{"text": "hi"}]}],
            "tools": [{"functionDeclarations": [
                {"name": "get_weather", "description": "Weather", "parameters": {"type": "OBJECT",
                    "properties": {"city": {"type": "STRING", "nullable": true}, "days": {"type": "ARRAY", "items": {"type": "INTEGER"}}},
                    "required": ["city"], "propertyOrdering": ["city", "days"]}},
                {"name": "read_file", "parametersJsonSchema": {"type": "object", "properties": {"path": {"type": "string"}}, "additionalProperties": false}},
                {"name": "now"}]}],
            "toolConfig": {"functionCallingConfig": mode}})
    };
    let request = hub(body(json!({"mode": "AUTO"})));
    let tools = request.tools.unwrap();
    assert_eq!(
        tools[0].input_schema,
        Some(
            json!({"type": "object", "properties": {"city": {"type": ["string", "null"]},
            "days": {"type": "array", "items": {"type": "integer"}}}, "required": ["city"]})
        )
    );
    assert_eq!(
        tools[1].input_schema.as_ref().unwrap()["additionalProperties"],
        false
    );
    assert_eq!(
        tools[2].input_schema,
        Some(json!({"type": "object", "properties": {}}))
    );
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Auto {
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(
        hub(body(json!({"mode": "NONE"}))).tool_choice,
        Some(ToolChoice::None)
    );
    let one = hub(body(
        json!({"mode": "ANY", "allowedFunctionNames": ["now"]}),
    ));
    assert_eq!(
        one.tool_choice,
        Some(ToolChoice::Tool {
            name: "now".into(),
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(one.tools.unwrap().len(), 1);
    let two = hub(body(
        json!({"mode": "ANY", "allowedFunctionNames": ["now", "read_file"]}),
    ));
    assert_eq!(
        two.tool_choice,
        Some(ToolChoice::Any {
            disable_parallel_tool_use: None
        })
    );
    assert_eq!(two.tools.unwrap().len(), 2);
    let search = refused(json!({"contents": [], "tools": [{"googleSearch": {}}]}));
    assert!(search.contains("googleSearch"), "{search}");
}

#[test]
fn json_mode_becomes_an_instruction_and_the_hubs_output_format() {
    let request = hub(json!({"contents": [{"parts": [{"text": "List a cookie"}]}],
        "systemInstruction": {"parts": [{"text": "You bake."}]},
        "generationConfig": {"responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"name": {"type": "STRING"}}}}}));
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    assert_eq!(
        request.output_config,
        Some(json!({"format": {"type": "json_schema", "schema": schema}}))
    );
    let Some(System::Text(system)) = request.system else {
        panic!()
    };
    assert!(
        system.starts_with("You bake.\n\nRespond with one JSON value"),
        "{system}"
    );
    assert!(system.ends_with(&schema.to_string()), "{system}");
    let bare =
        hub(json!({"contents": [], "generationConfig": {"responseMimeType": "application/json"}}));
    assert_eq!(
        bare.output_config.unwrap()["format"]["schema"],
        json!({"type": "object"})
    );
    assert!(refused(
        json!({"contents": [], "generationConfig": {"responseMimeType": "text/x.enum"}})
    )
    .contains("text/x.enum"));
}

#[test]
fn thinking_config_becomes_a_budget() {
    let thinking = |config: Value| {
        hub(json!({"contents": [], "generationConfig": {"thinkingConfig": config}})).thinking
    };
    let enabled = |budget_tokens| Some(Thinking::Enabled { budget_tokens });
    assert_eq!(
        thinking(json!({"thinkingBudget": 2048, "includeThoughts": true})),
        enabled(2048)
    );
    assert_eq!(
        thinking(json!({"thinkingBudget": 0})),
        Some(Thinking::Disabled)
    );
    assert_eq!(thinking(json!({"thinkingBudget": -1})), enabled(12_288));
    assert_eq!(thinking(json!({"thinkingLevel": "HIGH"})), enabled(32_768));
    assert_eq!(thinking(json!({"includeThoughts": true})), enabled(12_288));
    assert_eq!(thinking(json!({"includeThoughts": false})), None);
}

#[test]
fn what_no_other_provider_can_take_is_refused_by_name() {
    assert!(
        refused(json!({"contents": [], "cachedContent": "cachedContents/x"}))
            .starts_with("cachedContent")
    );
    assert!(
        refused(json!({"contents": [], "generationConfig": {"candidateCount": 2}}))
            .contains("candidateCount")
    );
    assert!(
        refused(json!({"contents": [{"role": "system", "parts": []}]})).contains("unknown role")
    );
}

#[test]
fn count_tokens_takes_contents_or_a_whole_request() {
    let plain: CountTokensRequest =
        serde_json::from_value(json!({"contents": [{"parts": [{"text": "hi"}]}]})).unwrap();
    assert_eq!(plain.to_messages("m").unwrap().messages.len(), 1);
    let whole: CountTokensRequest = serde_json::from_value(json!({"generateContentRequest": {
        "model": "models/m", "contents": [{"parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "sys"}]}}}))
    .unwrap();
    assert_eq!(
        whole.to_messages("m").unwrap().system,
        Some(System::Text("sys".into()))
    );
}

fn meta(include_thoughts: bool) -> GeminiMeta {
    GeminiMeta {
        model: "anthropic@claude-sonnet-4-5".into(),
        response_id: "resp1".into(),
        include_thoughts,
    }
}

fn usage() -> Usage {
    Usage {
        input_tokens: 10,
        output_tokens: 7,
        cache_creation_input_tokens: 2,
        cache_read_input_tokens: 30,
    }
}

#[test]
fn a_hub_answer_is_a_generate_content_response() {
    let message = MessagesResponse::new(
        "msg_1".into(),
        "claude".into(),
        vec![
            ContentBlock::Thinking {
                thinking: "Let me see".into(),
                signature: "sig".into(),
            },
            ContentBlock::text("Calling the tool."),
            ContentBlock::ToolUse {
                id: "toolu_01".into(),
                name: "get_weather".into(),
                input: json!({"city": "Paris"}),
            },
        ],
        StopReason::ToolUse,
        usage(),
    );
    let body = generate_content_response(&message, &meta(true));
    assert_eq!(
        body,
        json!({"candidates": [{"content": {"role": "model", "parts": [
                {"text": "Let me see", "thought": true},
                {"text": "Calling the tool."},
                {"functionCall": {"id": "toolu_01", "name": "get_weather", "args": {"city": "Paris"}}}]},
              "finishReason": "STOP", "index": 0}],
          "usageMetadata": {"promptTokenCount": 42, "candidatesTokenCount": 7, "totalTokenCount": 49,
              "cachedContentTokenCount": 30},
          "modelVersion": "anthropic@claude-sonnet-4-5", "responseId": "resp1"})
    );
    let hidden = generate_content_response(&message, &meta(false));
    assert_eq!(
        hidden["candidates"][0]["content"]["parts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mut cut = message.clone();
    cut.stop_reason = Some(StopReason::MaxTokens);
    assert_eq!(
        generate_content_response(&cut, &meta(false))["candidates"][0]["finishReason"],
        "MAX_TOKENS"
    );
    assert_eq!(finish_reason(Some(StopReason::Refusal)), "SAFETY");
}

/// A hub stream: thinking, text, two parallel calls with split arguments.
fn parallel_events() -> Vec<StreamEvent> {
    let mut start = MessagesResponse::new(
        "msg_1".into(),
        "m".into(),
        vec![],
        StopReason::EndTurn,
        Usage {
            input_tokens: 10,
            ..Usage::default()
        },
    );
    start.stop_reason = None;
    let tool = |index, id: &str, city_json: &[&str]| {
        let mut events = vec![StreamEvent::ContentBlockStart {
            index,
            content_block: ContentBlock::ToolUse {
                id: id.into(),
                name: "get_weather".into(),
                input: json!({}),
            },
        }];
        for piece in city_json {
            events.push(StreamEvent::ContentBlockDelta {
                index,
                delta: Delta::InputJsonDelta {
                    partial_json: (*piece).into(),
                },
            });
        }
        events.push(StreamEvent::ContentBlockStop { index });
        events
    };
    let mut events = vec![
        StreamEvent::MessageStart { message: start },
        StreamEvent::ContentBlockStart {
            index: 0,
            content_block: ContentBlock::Thinking {
                thinking: String::new(),
                signature: String::new(),
            },
        },
        StreamEvent::ContentBlockDelta {
            index: 0,
            delta: Delta::ThinkingDelta {
                thinking: "Two cities.".into(),
            },
        },
        StreamEvent::ContentBlockDelta {
            index: 0,
            delta: Delta::SignatureDelta {
                signature: "sig".into(),
            },
        },
        StreamEvent::ContentBlockStop { index: 0 },
        StreamEvent::ContentBlockStart {
            index: 1,
            content_block: ContentBlock::text(""),
        },
        StreamEvent::ContentBlockDelta {
            index: 1,
            delta: Delta::TextDelta {
                text: "Checking".into(),
            },
        },
        StreamEvent::ContentBlockDelta {
            index: 1,
            delta: Delta::TextDelta {
                text: " both.".into(),
            },
        },
        StreamEvent::ContentBlockStop { index: 1 },
        StreamEvent::Ping,
    ];
    events.extend(tool(2, "toolu_A", &["", "{\"city\": \"Pa", "ris\"}"]));
    events.extend(tool(3, "toolu_B", &["{\"city\":\"Tokyo\"}"]));
    events.push(StreamEvent::MessageDelta {
        delta: MessageDeltaBody {
            stop_reason: Some(StopReason::ToolUse),
            stop_sequence: None,
        },
        usage: Usage {
            output_tokens: 33,
            ..Usage::default()
        },
    });
    events.push(StreamEvent::MessageStop);
    events
}

fn encode(framing: GeminiFraming, include_thoughts: bool, events: &[StreamEvent]) -> String {
    let mut chunks = GeminiChunks::new(meta(include_thoughts), framing);
    let mut out = BytesMut::new();
    for event in events {
        chunks.encode(std::slice::from_ref(event), &mut out);
    }
    String::from_utf8(out.to_vec()).unwrap()
}

fn sse_chunks(sse: &str) -> Vec<Value> {
    sse.split("\r\n\r\n")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn a_hub_stream_is_gemini_chunks_with_whole_parallel_calls_and_a_final_usage_chunk() {
    let sse = encode(GeminiFraming::Sse, true, &parallel_events());
    let chunks = sse_chunks(&sse);
    let parts: Vec<Value> = chunks
        .iter()
        .map(|c| c["candidates"][0]["content"]["parts"].clone())
        .collect();
    assert_eq!(
        parts,
        [
            json!([{"text": "Two cities.", "thought": true}]),
            json!([{"text": "Checking"}]),
            json!([{"text": " both."}]),
            json!([{"functionCall": {"id": "toolu_A", "name": "get_weather", "args": {"city": "Paris"}}}]),
            json!([{"functionCall": {"id": "toolu_B", "name": "get_weather", "args": {"city": "Tokyo"}}}]),
            json!([]),
        ]
    );
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        last["usageMetadata"],
        json!({"promptTokenCount": 10, "candidatesTokenCount": 33, "totalTokenCount": 43})
    );
    assert!(chunks[..chunks.len() - 1]
        .iter()
        .all(|c| c.get("usageMetadata").is_none()
            && c["candidates"][0].get("finishReason").is_none()));
    assert!(chunks
        .iter()
        .all(|c| c["modelVersion"] == "anthropic@claude-sonnet-4-5" && c["responseId"] == "resp1"));
    assert!(
        sse.contains("\r\n\r\n\r\ndata: "),
        "the ping is a bare line end: {sse:?}"
    );

    let hidden = sse_chunks(&encode(GeminiFraming::Sse, false, &parallel_events()));
    assert_eq!(
        hidden.len(),
        chunks.len() - 1,
        "no thought chunk without includeThoughts"
    );
}

#[test]
fn without_alt_sse_the_stream_is_one_json_array() {
    let array = encode(GeminiFraming::JsonArray, false, &parallel_events());
    assert!(array.starts_with("[{") && array.ends_with("}]"), "{array}");
    let parsed: Vec<Value> = serde_json::from_str(&array).unwrap();
    assert_eq!(parsed.len(), 5);
    assert_eq!(parsed[4]["candidates"][0]["finishReason"], "STOP");
}

#[test]
fn an_error_event_is_googles_error_object_and_ends_the_stream() {
    let mut events = parallel_events();
    events.truncate(7);
    events.push(StreamEvent::Error {
        error: ErrorBody {
            kind: "overloaded_error".into(),
            message: "busy".into(),
        },
    });
    events.push(StreamEvent::MessageStop);
    let chunks = sse_chunks(&encode(GeminiFraming::Sse, false, &events));
    assert_eq!(
        chunks.last().unwrap(),
        &json!({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}})
    );
    assert_eq!(chunks.len(), 2, "nothing after the error");
    let array = encode(GeminiFraming::JsonArray, false, &events[6..]);
    let parsed: Vec<Value> = serde_json::from_str(&array).unwrap();
    assert_eq!(parsed[1]["error"]["status"], "UNAVAILABLE");
    let early = encode(GeminiFraming::JsonArray, false, &events[7..8]);
    assert_eq!(
        serde_json::from_str::<Value>(&early).unwrap()[0]["error"]["code"],
        503
    );
}

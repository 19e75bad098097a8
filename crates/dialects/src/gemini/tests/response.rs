use serde_json::{json, Value};

use super::super::ids::decode;
use super::super::*;
use crate::anthropic::{ContentBlock, StopReason, Usage};

fn translate(body: &[u8]) -> MessagesResponse {
    Gemini
        .response(body, "gemini-2.5-flash", "msg_01T")
        .expect("translates")
}

fn translate_json(body: Value) -> MessagesResponse {
    translate(body.to_string().as_bytes())
}

fn candidate(parts: Value, finish_reason: &str) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish_reason, "index": 0}]})
}

fn usage(input: u64, output: u64, cache_read: u64) -> Usage {
    Usage {
        input_tokens: input,
        output_tokens: output,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: cache_read,
    }
}

/// A minted id fits OpenAI's 40 characters and Anthropic's id alphabet.
fn assert_short_id(id: &str) {
    assert!(id.starts_with("toolu_gm"), "{id}");
    assert!(id.len() <= 40, "{id} is {} characters", id.len());
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{id}"
    );
}

#[test]
fn a_signed_function_call_signs_the_thinking_before_it_and_its_id_stays_short() {
    let message = translate(include_bytes!(
        "../../../tests/fixtures/gemini_response_tool_call.json"
    ));
    assert_eq!(message.id, "msg_01T");
    assert_eq!(message.model, "gemini-2.5-flash");
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(message.usage, usage(50, 17 + 52, 0));
    let [ContentBlock::Thinking {
        thinking,
        signature,
    }, ContentBlock::ToolUse { id, name, input }] = &message.content[..]
    else {
        panic!("unexpected content {:?}", message.content);
    };
    let gemini = "Cu0BAdHtim/1tmi8ZRpfrEgl+Gi++Kc324ShOTqoDpHiN9X82Sp1pgvhLoKcAEBTzdPdWviBCNREjUqhFSfCaIWqPq9Mum5g9k8gj76Cz5Tzxjf3f7TEypscN3r/EnpleAQQNp105mMKqhi3hwpSFIpn0T2zgT142ow+vzgfPQeA6crel3/yi/3FGyRsQL2K/GuyqDrKBhJei0pXAP/rLMlH5FOJcGuxNrJlH2dZhXIcCYVnABxZg0Qchlxr0kZ6fe7oLOu7hVGbl1vxq12alaTsuetmQil738x1Tmwd4g7tFvSGnZZG37quTBrpXzNa";
    assert!(thinking.starts_with("**Okay, here's what I'm thinking:**"));
    assert_eq!(signature, &format!("gemini:{gemini}"));
    assert_eq!(name, "get_weather");
    assert_eq!(input, &json!({"city": "shanghai"}));
    assert_eq!(id, "toolu_gm01T-0");
    assert_eq!(decode(id).signature.as_deref(), Some(gemini));
}

#[test]
fn a_gemini_3_call_keeps_its_signature_byte_for_byte() {
    let message = translate(include_bytes!(
        "../../../tests/fixtures/gemini_response_gemini3_tool_call.json"
    ));
    assert_eq!(message.stop_reason, Some(StopReason::ToolUse));
    assert_eq!(message.usage, usage(29, 15 + 893, 0));
    let [ContentBlock::Thinking { signature, .. }, ContentBlock::ToolUse { id, name, .. }] =
        &message.content[..]
    else {
        panic!("unexpected content {:?}", message.content);
    };
    let gemini = "EskgCsYgAb4+9vtF7/499YQS2bjZs3xcQI+iAl+ILn29nK1j0Kg6su7QsUUUk3nrAAfnS2w5WiVvlcCqu9fAebJ2cvfaEyBahEt5";
    assert_eq!(name, "weather");
    assert_short_id(id);
    assert_eq!(signature, &format!("gemini:{gemini}"));
    assert_eq!(decode(id).signature.as_deref(), Some(gemini));
}

#[test]
fn max_tokens_keeps_the_partial_text_after_the_thinking() {
    let message = translate(include_bytes!(
        "../../../tests/fixtures/gemini_response_max_tokens.json"
    ));
    assert_eq!(message.stop_reason, Some(StopReason::MaxTokens));
    assert_eq!(message.usage, usage(29, 3 + 57, 0));
    assert!(
        matches!(&message.content[0], ContentBlock::Thinking { thinking, .. } if thinking.starts_with("Okay, let me break this down."))
    );
    assert_eq!(message.content[1], ContentBlock::text("We are looking"));
}

#[test]
fn a_blocked_prompt_is_an_empty_refusal() {
    let message = translate(include_bytes!(
        "../../../tests/fixtures/gemini_response_blocked.json"
    ));
    assert_eq!(message.stop_reason, Some(StopReason::Refusal));
    assert!(message.content.is_empty());
    assert_eq!(message.usage, usage(12559, 0, 0));
}

#[test]
fn cached_tokens_are_reported_apart_from_input() {
    let mut body = candidate(json!([{"text": "ok"}]), "STOP");
    body["usageMetadata"] = json!({"promptTokenCount": 100, "cachedContentTokenCount": 30, "candidatesTokenCount": 20, "thoughtsTokenCount": 7, "totalTokenCount": 127});
    let message = translate_json(body);
    assert_eq!(message.usage, usage(70, 27, 30));
    assert_eq!(message.stop_reason, Some(StopReason::EndTurn));
}

#[test]
fn finish_reasons_map_to_stop_reasons() {
    let stop = |reason: &str, parts: Value| translate_json(candidate(parts, reason)).stop_reason;
    let text = json!([{"text": "x"}]);
    let call = json!([{"functionCall": {"name": "f", "args": {}}}]);
    assert_eq!(stop("STOP", text.clone()), Some(StopReason::EndTurn));
    assert_eq!(stop("STOP", call.clone()), Some(StopReason::ToolUse));
    assert_eq!(stop("MAX_TOKENS", call), Some(StopReason::MaxTokens));
    for refusal in [
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
    ] {
        assert_eq!(
            stop(refusal, text.clone()),
            Some(StopReason::Refusal),
            "{refusal}"
        );
    }
    assert_eq!(
        stop("MALFORMED_FUNCTION_CALL", json!([])),
        Some(StopReason::EndTurn)
    );
    assert_eq!(stop("OTHER", text), Some(StopReason::EndTurn));
}

#[test]
fn thoughts_merge_and_a_text_signature_lands_on_the_thinking_block() {
    let message = translate_json(candidate(
        json!([
            {"text": "think ", "thought": true},
            {"text": "more", "thought": true},
            {"text": "Hello", "thoughtSignature": "SIG_T"},
            {"text": " world"},
            {"text": "", "thoughtSignature": "SIG_END"},
            {"inlineData": {"mimeType": "image/png", "data": "AA=="}}
        ]),
        "STOP",
    ));
    assert_eq!(
        message.content,
        vec![
            ContentBlock::Thinking {
                thinking: "think more".into(),
                signature: "gemini:SIG_T".into()
            },
            ContentBlock::text("Hello world"),
            ContentBlock::Thinking {
                thinking: String::new(),
                signature: "gemini:SIG_END".into()
            },
        ]
    );
}

#[test]
fn parallel_calls_get_distinct_ids_and_gemini_ids_are_kept() {
    let message = translate_json(candidate(
        json!([
            {"functionCall": {"name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "U0lH"},
            {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}},
            {"functionCall": {"id": "fc-7", "name": "Glob"}}
        ]),
        "STOP",
    ));
    let ids: Vec<&str> = message
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolUse { id, .. } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["toolu_gm01T-0", "toolu_gm01T-1", "toolu_gm01T-2"]);
    // Only the signed first call gets a thinking block before it.
    assert!(matches!(
        &message.content[0],
        ContentBlock::Thinking { signature, .. } if signature == "gemini:U0lH"
    ));
    assert_eq!(decode(ids[2]).gemini_id.as_deref(), Some("fc-7"));
    assert!(
        matches!(&message.content[3], ContentBlock::ToolUse { input, .. } if input == &json!({}))
    );
}

#[test]
fn error_bodies_and_garbage_are_translation_errors() {
    let error = br#"{"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}"#;
    assert!(Gemini.response(error, "m", "msg_1").is_err());
    assert!(Gemini.response(b"<html>", "m", "msg_1").is_err());
    // Unknown fields and part kinds are not errors.
    let odd = Gemini.response(
        br#"{"candidates": [{"content": {"parts": [{"executableCode": {}}]}, "newField": 1}]}"#,
        "m",
        "msg_1",
    );
    assert_eq!(odd.map(|m| m.content.len()), Ok(0));
}

//! Tool calls, tool results and thought signatures, there and back.

use serde_json::json;

use super::super::*;
use super::request::{body, user};

#[test]
fn tool_results_are_paired_with_their_call_by_id_and_name() {
    let b = body(
        json!({"model": "x", "messages": [
            user("weather?"),
            {"role": "assistant", "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B", "name": "screenshot", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "text", "text": "<system-reminder>keep going</system-reminder>"},
                {"type": "tool_result", "tool_use_id": "toolu_01A", "content": "sunny"},
                {"type": "tool_result", "tool_use_id": "toolu_01B", "is_error": true, "content": [
                    {"type": "text", "text": "partial"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                ]},
                {"type": "tool_result", "tool_use_id": "toolu_unknown", "content": "orphan"}
            ]}
        ]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"text": "Checking."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "skip_thought_signature_validator"},
            {"functionCall": {"name": "screenshot", "args": {}}}
        ])
    );
    assert_eq!(
        b["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}},
            {"functionResponse": {"name": "screenshot", "response": {"error": "partial"}}},
            {"inlineData": {"mimeType": "image/png", "data": "AAAA"}},
            {"text": "<system-reminder>keep going</system-reminder>"},
            {"text": "[result of tool call toolu_unknown]\norphan"}
        ])
    );
}

#[test]
fn thought_signatures_survive_a_full_round_trip_through_an_anthropic_client() {
    // Gemini answers with a signed thought, a signed call with its own id,
    // and an unsigned parallel call.
    let gemini_reply = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Let me look.", "thought": true},
        {"text": "Reading both files.", "thoughtSignature": "U0lHX1RFWFQ="},
        {"functionCall": {"id": "fc-1", "name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTC8rMQ=="},
        {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}}
    ]}, "finishReason": "STOP"}]});
    let message = Gemini
        .response(
            gemini_reply.to_string().as_bytes(),
            "gemini-3-pro-preview",
            "msg_01RT",
        )
        .expect("translates");

    // The client sends the assistant turn back as it got it, plus the results.
    let content = serde_json::to_value(&message.content).expect("serialises");
    let ids: Vec<String> = message
        .content
        .iter()
        .filter_map(|b| match b {
            crate::anthropic::ContentBlock::ToolUse { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let b = body(
        json!({"model": "x", "messages": [
            user("read /a and /b"),
            {"role": "assistant", "content": content},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": ids[0], "content": "A"},
                {"type": "tool_result", "tool_use_id": ids[1], "content": "B"}
            ]}
        ]}),
        "gemini-3-pro-preview",
    );
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"text": "Reading both files.", "thoughtSignature": "U0lHX1RFWFQ="},
            {"functionCall": {"id": "fc-1", "name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTC8rMQ=="},
            {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}}
        ])
    );
    assert_eq!(
        b["contents"][2]["parts"],
        json!([
            {"functionResponse": {"name": "Read", "response": {"output": "A"}, "id": "fc-1"}},
            {"functionResponse": {"name": "Read", "response": {"output": "B"}}}
        ])
    );
}

#[test]
fn only_the_first_call_of_a_merged_model_turn_gets_the_skip_signature() {
    let b = body(
        json!({"model": "x", "messages": [
            user("go"),
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "a", "input": null}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_2", "name": "b", "input": "raw"}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "1"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "2"}
            ]}
        ]}),
        "gemini-3-flash-preview",
    );
    assert_eq!(
        b["contents"][1],
        json!({"role": "model", "parts": [
            {"functionCall": {"name": "a", "args": {}}, "thoughtSignature": "skip_thought_signature_validator"},
            {"functionCall": {"name": "b", "args": {"input": "raw"}}}
        ]})
    );
}

#[test]
fn claude_thinking_signatures_are_not_sent_to_gemini() {
    let b = body(
        json!({"model": "x", "messages": [
            user("hi"),
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"},
                {"type": "redacted_thinking", "data": "abc"},
                {"type": "text", "text": "Hello"}
            ]},
            user("again")
        ]}),
        "gemini-2.5-flash",
    );
    assert_eq!(
        b["contents"][1],
        json!({"role": "model", "parts": [{"text": "Hello"}]})
    );
}

/// A Gemini 3 turn: a signed call with Gemini's own id, and an unsigned
/// parallel call.
fn gemini_3_calls(message_id: &str) -> crate::anthropic::MessagesResponse {
    let reply = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"id": "fc-9", "name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTC8rMQ=="},
        {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}}
    ]}, "finishReason": "STOP"}]});
    Gemini
        .response(
            reply.to_string().as_bytes(),
            "gemini-3-pro-preview",
            message_id,
        )
        .expect("translates")
}

fn tool_use_ids(message: &crate::anthropic::MessagesResponse) -> Vec<String> {
    message
        .content
        .iter()
        .filter_map(|b| match b {
            crate::anthropic::ContentBlock::ToolUse { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

fn second_turn(assistant: serde_json::Value, ids: &[String]) -> serde_json::Value {
    body(
        json!({"model": "x", "messages": [
            user("read /a and /b"),
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": ids[0], "content": "A"},
                {"type": "tool_result", "tool_use_id": ids[1], "content": "B"}
            ]}
        ]}),
        "gemini-3-pro-preview",
    )
}

#[test]
fn a_client_that_sends_back_only_the_ids_still_brings_gemini_its_signature() {
    // OpenAI Chat and Responses clients drop thinking blocks: the assistant
    // turn comes back as bare calls with short ids.
    let message = gemini_3_calls("msg_OnlyIdsComeBack");
    let ids = tool_use_ids(&message);
    assert!(ids.iter().all(|id| id.len() <= 40), "{ids:?}");
    let bare = json!([
        {"type": "tool_use", "id": ids[0], "name": "Read", "input": {"file_path": "/a"}},
        {"type": "tool_use", "id": ids[1], "name": "Read", "input": {"file_path": "/b"}}
    ]);
    let b = second_turn(bare, &ids);
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"functionCall": {"id": "fc-9", "name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTC8rMQ=="},
            {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}}
        ])
    );
    assert_eq!(
        b["contents"][2]["parts"][0]["functionResponse"]["id"],
        "fc-9"
    );
}

#[test]
fn an_anthropic_clients_thinking_block_carries_the_signature_to_a_replica_that_never_saw_the_call()
{
    // Another replica minted these ids; this one has nothing remembered, but
    // the thinking block the client sends back holds the signature.
    let assistant = json!([
        {"type": "thinking", "thinking": "", "signature": "gemini:Q0FMTC8rMQ=="},
        {"type": "tool_use", "id": "toolu_gmElsewhere-0", "name": "Read", "input": {"file_path": "/a"}},
        {"type": "tool_use", "id": "toolu_gmElsewhere-1", "name": "Read", "input": {"file_path": "/b"}}
    ]);
    let ids = [
        "toolu_gmElsewhere-0".to_owned(),
        "toolu_gmElsewhere-1".to_owned(),
    ];
    let b = second_turn(assistant, &ids);
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"functionCall": {"name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTC8rMQ=="},
            {"functionCall": {"name": "Read", "args": {"file_path": "/b"}}}
        ])
    );
}

#[test]
fn with_neither_the_thinking_block_nor_the_memory_the_call_gets_the_skip_value() {
    let bare = json!([
        {"type": "tool_use", "id": "toolu_gmLost-0", "name": "Read", "input": {"file_path": "/a"}},
        {"type": "tool_use", "id": "toolu_gmLost-1", "name": "Read", "input": {"file_path": "/b"}}
    ]);
    let ids = ["toolu_gmLost-0".to_owned(), "toolu_gmLost-1".to_owned()];
    let b = second_turn(bare, &ids);
    assert_eq!(
        b["contents"][1]["parts"][0]["thoughtSignature"],
        "skip_thought_signature_validator"
    );
    assert!(b["contents"][1]["parts"][1]
        .get("thoughtSignature")
        .is_none());
}

#[test]
fn a_signature_after_thoughts_and_text_lands_on_the_part_it_came_with() {
    // Gemini: thoughts, a signed text, more thoughts, a signed call.
    let reply = json!({"candidates": [{"content": {"role": "model", "parts": [
        {"text": "Plan.", "thought": true},
        {"text": "Looking.", "thoughtSignature": "VEVYVA=="},
        {"text": "Which file?", "thought": true},
        {"functionCall": {"name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTA=="}
    ]}, "finishReason": "STOP"}]});
    let message = Gemini
        .response(
            reply.to_string().as_bytes(),
            "gemini-3-pro-preview",
            "msg_Interleaved",
        )
        .expect("translates");
    let ids = tool_use_ids(&message);
    let content = serde_json::to_value(&message.content).expect("serialises");
    let b = body(
        json!({"model": "x", "messages": [
            user("go"),
            {"role": "assistant", "content": content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ids[0], "content": "A"}]}
        ]}),
        "gemini-3-pro-preview",
    );
    assert_eq!(
        b["contents"][1]["parts"],
        json!([
            {"text": "Looking.", "thoughtSignature": "VEVYVA=="},
            {"functionCall": {"name": "Read", "args": {"file_path": "/a"}}, "thoughtSignature": "Q0FMTA=="}
        ])
    );
}

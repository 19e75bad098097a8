//! Fake upstream turns for a one-tool conversation, in each provider's own
//! streaming format: first a call to the `Read` tool, then, once the tool
//! result is in the conversation, a final answer that quotes it.

use serde_json::{json, Value};
use testkit::{Recorded, Reply, SseEvent};

/// The file the model asks Claude Code to read, and what it holds.
pub const SECRET: &str = "tangerine-42";

/// The last tool result's text in an Anthropic request, if any.
pub fn anthropic_tool_result(request: &Value) -> Option<String> {
    let last = request["messages"].as_array()?.last()?;
    last["content"].as_array()?.iter().find_map(|block| {
        (block["type"] == "tool_result").then(|| match &block["content"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    })
}

/// Anthropic Messages stream: tool call or final text.
pub fn anthropic_turn(request: &Recorded, file: &str) -> Reply {
    let body = request.json().unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
    let names: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    let text = match (anthropic_tool_result(&body), tool_call(&names, file)) {
        (Some(result), _) => final_text(&result),
        (None, Some((name, input))) => return anthropic_tool_call(&name, input, stream),
        (None, None) => "Hello from the fake upstream.".to_owned(),
    };
    if stream {
        Reply::anthropic_stream(&text)
    } else {
        Reply::anthropic_message(&text)
    }
}

fn anthropic_tool_call(name: &str, input: Value, stream: bool) -> Reply {
    if !stream {
        return Reply::json(
            200,
            json!({"id": "msg_tool1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
                   "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": input}],
                   "stop_reason": "tool_use", "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 5}}),
        );
    }
    let events = vec![
        SseEvent::json(
            "message_start",
            &json!({"type": "message_start", "message": {"id": "msg_tool1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
        ),
        SseEvent::json(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_01", "name": name, "input": {}}}),
        ),
        SseEvent::json(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": input.to_string()}}),
        ),
        SseEvent::json(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        SseEvent::json(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 12}}),
        ),
        SseEvent::json("message_stop", &json!({"type": "message_stop"})),
    ];
    Reply::sse(events)
}

/// The tool the model calls, with arguments for it: `Read` (Claude Code) or
/// `get_weather` (the SDK check).
pub fn tool_call(tool_names: &[String], file: &str) -> Option<(String, Value)> {
    if tool_names.iter().any(|n| n == "Read") {
        Some(("Read".into(), json!({"file_path": file})))
    } else if tool_names.iter().any(|n| n == "read_file") {
        // Gemini CLI's file reader.
        Some(("read_file".into(), json!({"file_path": file})))
    } else if tool_names.iter().any(|n| n == "shell_command") {
        // Codex CLI reads files with its shell tool.
        Some((
            "shell_command".into(),
            json!({"command": format!("cat {file}")}),
        ))
    } else if tool_names.iter().any(|n| n == "exec_command") {
        Some(("exec_command".into(), json!({"cmd": format!("cat {file}")})))
    } else if tool_names.iter().any(|n| n == "get_weather") {
        Some(("get_weather".into(), json!({"city": "Paris"})))
    } else {
        None
    }
}

pub fn final_text(result: &str) -> String {
    let quoted = result
        .lines()
        .find(|l| l.contains(SECRET) || l.contains("sunny"))
        .unwrap_or(result);
    format!("The tool says: {}", quoted.trim())
}

/// OpenAI Chat Completions, whole or streamed.
pub fn openai_turn(request: &Recorded, file: &str) -> Reply {
    let body = request.json().unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect();
    let tool_result = messages.last().filter(|m| m["role"] == "tool").map(|m| {
        m["content"]
            .as_str()
            .map_or_else(|| m["content"].to_string(), str::to_owned)
    });
    let chunk = |delta: Value, finish: Value| {
        SseEvent::data(json!({"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1",
                              "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}).to_string())
    };
    let usage = SseEvent::data(json!({"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1", "choices": [],
                                      "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}).to_string());
    match (tool_result, tool_call(&names, file)) {
        (None, Some((name, args))) => {
            if !stream {
                return Reply::json(
                    200,
                    json!({"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_e2e1", "type": "function", "function": {"name": name, "arguments": args.to_string()}}]}, "finish_reason": "tool_calls"}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}),
                );
            }
            let args = args.to_string();
            let (a, b) = args.split_at(args.len() / 2);
            Reply::sse(vec![
                chunk(
                    json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_e2e1", "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    Value::Null,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}),
                    Value::Null,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}),
                    Value::Null,
                ),
                chunk(json!({}), json!("tool_calls")),
                usage,
                SseEvent::data("[DONE]"),
            ])
        }
        (result, _) => {
            let text = result.map_or_else(
                || "Hello from the fake upstream.".to_owned(),
                |r| final_text(&r),
            );
            if stream {
                let (a, b) = text.split_at(text.len() / 2);
                Reply::sse(vec![
                    chunk(json!({"role": "assistant", "content": ""}), Value::Null),
                    chunk(json!({"content": a}), Value::Null),
                    chunk(json!({"content": b}), Value::Null),
                    chunk(json!({}), json!("stop")),
                    usage,
                    SseEvent::data("[DONE]"),
                ])
            } else {
                Reply::json(
                    200,
                    json!({"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}}),
                )
            }
        }
    }
}

/// The thought signature the fake Gemini upstream puts on its function
/// call, as Gemini 2.5 and 3 do (standard base64, `+` and `/` included).
pub const GEMINI_SIGNATURE: &str =
    "CiQB0e2Kb6Tk+udQsDxtD31FVR08uogP/Bg0v09ujrGIhrx9VQ1IKYgHR7YpvNGHEHX8O/GkY5kxUtxywioE7wlsDXFy8w==";

/// Every Gemini request that sends a function's response back (there must
/// be one) holds the fake's call with its thought signature: Gemini 3
/// refuses a history whose calls lost theirs.
pub fn assert_gemini_signatures_returned(requests: &[Recorded]) {
    let follow_ups: Vec<Value> = requests
        .iter()
        .filter_map(|r| r.json().ok())
        .filter(|body| body.to_string().contains("\"functionResponse\""))
        .collect();
    assert!(!follow_ups.is_empty(), "a function's response went back");
    for body in follow_ups {
        assert!(
            signature_returned(&body),
            "the call's thought signature came back: {}",
            body["contents"]
        );
    }
}

fn signature_returned(request: &Value) -> bool {
    request["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["role"] == "model")
        .flat_map(|c| c["parts"].as_array().into_iter().flatten())
        .any(|p| {
            p.get("functionCall").is_some()
                && p["thoughtSignature"].as_str().map(base64_standard)
                    == Some(base64_standard(GEMINI_SIGNATURE))
        })
}

/// Gemini's JSON takes bytes in standard or URL-safe base64, padded or not
/// (the google-genai SDK sends a signature back URL-safe): one form to compare.
fn base64_standard(text: &str) -> String {
    text.trim_end_matches('=')
        .replace('-', "+")
        .replace('_', "/")
}

/// Gemini generateContent / streamGenerateContent?alt=sse;
/// `:countTokens` gets Gemini's count.
pub fn gemini_turn(request: &Recorded, file: &str) -> Reply {
    if request.path.ends_with(":countTokens") {
        return Reply::json(
            200,
            json!({"totalTokens": 11, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}]}),
        );
    }
    let body = request.json().unwrap_or_default();
    let stream = request.path.ends_with(":streamGenerateContent");
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t["functionDeclarations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|f| f["name"].as_str().map(str::to_owned))
        .collect();
    let tool_result = contents
        .last()
        .and_then(|c| c["parts"].as_array())
        .and_then(|parts| {
            parts
                .iter()
                .find_map(|p| p.get("functionResponse"))
                .map(|r| match &r["response"]["output"] {
                    Value::String(output) => output.clone(),
                    _ => r["response"].to_string(),
                })
        });
    let usage = json!({"promptTokenCount": 20, "candidatesTokenCount": 5, "totalTokenCount": 25});
    let candidate = |parts: Value, finish: Option<&str>| {
        let mut c = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    let chunks: Vec<Value> = match (tool_result, tool_call(&names, file)) {
        (None, Some((name, args))) => vec![
            json!({"candidates": [candidate(json!([{"functionCall": {"name": name, "args": args}, "thoughtSignature": GEMINI_SIGNATURE}]), Some("STOP"))], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}),
        ],
        (result, _) => {
            let text = result.map_or_else(
                || "Hello from the fake upstream.".to_owned(),
                |r| final_text(&r.replace("\\n", "\n")),
            );
            let (a, b) = text.split_at(text.len() / 2);
            vec![
                json!({"candidates": [candidate(json!([{"text": a}]), None)], "modelVersion": "gemini-2.5-flash"}),
                json!({"candidates": [candidate(json!([{"text": b}]), Some("STOP"))], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}),
            ]
        }
    };
    if stream {
        Reply::sse(
            chunks
                .iter()
                .map(|c| SseEvent::data(c.to_string()))
                .collect::<Vec<_>>(),
        )
    } else {
        let mut whole = chunks.last().cloned().unwrap_or_default();
        let text: String = chunks
            .iter()
            .filter_map(|c| c["candidates"][0]["content"]["parts"][0]["text"].as_str())
            .collect();
        if !text.is_empty() {
            whole["candidates"][0]["content"]["parts"] = json!([{"text": text}]);
        }
        Reply::json(200, whole)
    }
}

/// Ollama /api/chat, NDJSON stream or whole.
pub fn ollama_turn(request: &Recorded, file: &str) -> Reply {
    let body = request.json().unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(true);
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect();
    let tool_result = messages
        .last()
        .filter(|m| m["role"] == "tool")
        .and_then(|m| m["content"].as_str().map(str::to_owned));
    let line = |message: Value, done: bool| {
        let mut l = json!({"model": "gpt-oss:120b", "created_at": "2025-01-01T00:00:00Z", "message": message, "done": done});
        if done {
            l["done_reason"] = json!("stop");
            l["prompt_eval_count"] = json!(20);
            l["eval_count"] = json!(5);
        }
        l
    };
    let lines = match (tool_result, tool_call(&names, file)) {
        (None, Some((name, args))) => vec![
            line(
                json!({"role": "assistant", "content": "", "tool_calls": [{"function": {"name": name, "arguments": args}}]}),
                false,
            ),
            line(json!({"role": "assistant", "content": ""}), true),
        ],
        (result, _) => {
            let text = result.map_or_else(
                || "Hello from the fake upstream.".to_owned(),
                |r| final_text(&r),
            );
            let (a, b) = text.split_at(text.len() / 2);
            vec![
                line(json!({"role": "assistant", "content": a}), false),
                line(json!({"role": "assistant", "content": b}), false),
                line(json!({"role": "assistant", "content": ""}), true),
            ]
        }
    };
    if stream {
        Reply::ndjson(lines)
    } else {
        let text: String = lines
            .iter()
            .filter_map(|l| l["message"]["content"].as_str())
            .collect();
        let mut whole = lines[0].clone();
        if whole["message"].get("tool_calls").is_none() {
            whole["message"]["content"] = json!(text);
        }
        whole["done"] = json!(true);
        whole["done_reason"] = json!("stop");
        whole["prompt_eval_count"] = json!(20);
        whole["eval_count"] = json!(5);
        Reply::json(200, whole)
    }
}

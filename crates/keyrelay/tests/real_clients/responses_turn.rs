//! The one-tool conversation's turns on OpenAI's Responses API
//! (`/responses`), for Responses clients on an OpenAI provider, where
//! keyrelay forwards natively.

use serde_json::{json, Value};
use testkit::{Recorded, Reply, SseEvent};

use super::conversation::{final_text, tool_call};

/// OpenAI Responses (`/responses`), whole or streamed as OpenAI streams it
/// (see `openai_responses_*.sse` in the dialects fixtures): one output item,
/// the function call or the final text, on a response object that echoes
/// the request's settings, with `sequence_number`s from 0. The fake keeps
/// no state, so a `previous_response_id` gets OpenAI's answer for an id it
/// does not hold.
pub fn openai_responses_turn(request: &Recorded, file: &str) -> Reply {
    let body = request.json().unwrap_or_default();
    if let Some(previous) = body["previous_response_id"].as_str() {
        return Reply::json(
            400,
            json!({"error": {"message": format!("Previous response with id '{previous}' not found."),
                             "type": "invalid_request_error", "param": "previous_response_id", "code": "previous_response_not_found"}}),
        );
    }
    let names: Vec<String> = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect();
    let item = match (responses_tool_result(&body), tool_call(&names, file)) {
        (None, Some((name, args))) => {
            json!({"id": "fc_e2e1", "type": "function_call", "status": "completed",
                                             "arguments": args.to_string(), "call_id": "call_e2e1", "name": name})
        }
        (result, _) => {
            let text = result.map_or_else(
                || "Hello from the fake upstream.".to_owned(),
                |r| final_text(&r),
            );
            json!({"id": "msg_e2e1", "type": "message", "status": "completed", "role": "assistant",
                   "content": [{"type": "output_text", "annotations": [], "text": text}]})
        }
    };
    let usage = json!({"input_tokens": 20, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
                       "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 25});
    let response = |status: &str, output: Value, usage: Value| {
        json!({"id": "resp_e2e1", "object": "response", "created_at": 1_750_000_000, "status": status,
               "error": null, "incomplete_details": null, "instructions": body["instructions"],
               "max_output_tokens": body["max_output_tokens"], "model": body["model"], "output": output,
               "parallel_tool_calls": true, "previous_response_id": null, "reasoning": {"effort": null, "summary": null},
               "store": body.get("store").cloned().unwrap_or(json!(true)), "temperature": 1.0,
               "text": {"format": {"type": "text"}}, "tool_choice": "auto",
               "tools": body.get("tools").cloned().unwrap_or(json!([])), "top_p": 1.0,
               "truncation": "disabled", "usage": usage, "user": null, "metadata": {}})
    };
    if !body["stream"].as_bool().unwrap_or(false) {
        return Reply::json(200, response("completed", json!([item]), usage));
    }
    let mut events = vec![
        json!({"type": "response.created", "response": response("in_progress", json!([]), Value::Null)}),
        json!({"type": "response.in_progress", "response": response("in_progress", json!([]), Value::Null)}),
    ];
    events.extend(responses_item_events(&item));
    events.push(json!({"type": "response.completed", "response": response("completed", json!([item]), usage)}));
    Reply::sse(events.into_iter().enumerate().map(|(n, mut event)| {
        event["sequence_number"] = json!(n);
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        SseEvent::json(&kind, &event)
    }))
}

/// The events that stream one output item at index 0: added, its
/// arguments or text in two deltas, done.
fn responses_item_events(item: &Value) -> Vec<Value> {
    let id = &item["id"];
    let mut started = item.clone();
    started["status"] = json!("in_progress");
    if item["type"] == "function_call" {
        let arguments = item["arguments"].as_str().unwrap_or_default();
        let (a, b) = arguments.split_at(arguments.len() / 2);
        started["arguments"] = json!("");
        return vec![
            json!({"type": "response.output_item.added", "output_index": 0, "item": started}),
            json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": 0, "delta": a}),
            json!({"type": "response.function_call_arguments.delta", "item_id": id, "output_index": 0, "delta": b}),
            json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": 0, "arguments": arguments}),
            json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        ];
    }
    let part = &item["content"][0];
    let text = part["text"].as_str().unwrap_or_default();
    let (a, b) = text.split_at(text.len() / 2);
    started["content"] = json!([]);
    let at = json!({"item_id": id, "output_index": 0, "content_index": 0});
    let with = |kind: &str, fields: Value| {
        let mut event = at.clone();
        event["type"] = json!(kind);
        for (name, value) in fields.as_object().into_iter().flatten() {
            event[name] = value.clone();
        }
        event
    };
    vec![
        json!({"type": "response.output_item.added", "output_index": 0, "item": started}),
        with(
            "response.content_part.added",
            json!({"part": {"type": "output_text", "annotations": [], "text": ""}}),
        ),
        with(
            "response.output_text.delta",
            json!({"delta": a, "logprobs": []}),
        ),
        with(
            "response.output_text.delta",
            json!({"delta": b, "logprobs": []}),
        ),
        with(
            "response.output_text.done",
            json!({"text": text, "logprobs": []}),
        ),
        with("response.content_part.done", json!({"part": part})),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
    ]
}

/// The output of the last `function_call_output` after the last user
/// message of a Responses `input`, if any (a string, or input_text parts).
fn responses_tool_result(request: &Value) -> Option<String> {
    let input = request["input"].as_array()?;
    let item = input
        .iter()
        .rev()
        .take_while(|item| item["role"] != "user")
        .find(|item| item["type"] == "function_call_output")?;
    Some(match &item["output"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    })
}

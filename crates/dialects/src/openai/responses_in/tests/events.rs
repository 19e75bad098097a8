use bytes::BytesMut;
use serde_json::json;

use super::*;
use crate::anthropic::StreamEvent;
use crate::openai::responses_in::ResponsesEvents;
use crate::translate::StreamEncode;

/// Hub events written as Anthropic's JSON.
fn hub(events: Value) -> Vec<StreamEvent> {
    serde_json::from_value(events).expect("hub events")
}

fn start(input_tokens: u64) -> Value {
    json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
        "model": "m", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1}}})
}

fn block(index: usize, block: Value) -> [Value; 1] {
    [json!({"type": "content_block_start", "index": index, "content_block": block})]
}

fn delta(index: usize, delta: Value) -> Value {
    json!({"type": "content_block_delta", "index": index, "delta": delta})
}

fn stop(index: usize) -> Value {
    json!({"type": "content_block_stop", "index": index})
}

fn end(reason: &str, output_tokens: u64) -> [Value; 2] {
    [
        json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
        json!({"type": "message_stop"}),
    ]
}

/// `(event name, data)` for each event the encoder writes for `events`.
fn encode(meta: ResponsesMeta, events: &[StreamEvent]) -> Vec<(String, Value)> {
    let mut encoder = ResponsesEvents::new(meta);
    let mut out = BytesMut::new();
    encoder.encode(events, &mut out);
    parse_sse(std::str::from_utf8(&out).unwrap())
}

fn parse_sse(sse: &str) -> Vec<(String, Value)> {
    sse.split("\n\n")
        .filter(|e| !e.trim().is_empty() && !e.starts_with(':'))
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_owned();
            let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
            assert_eq!(data["type"], name.as_str(), "the event name is its type");
            (name, data)
        })
        .collect()
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(name, _)| name.as_str()).collect()
}

fn assert_sequence_numbers(events: &[(String, Value)]) {
    for (n, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], n, "{data}");
    }
}

fn text_stream() -> Vec<StreamEvent> {
    let mut events = vec![start(10)];
    events.extend(block(0, json!({"type": "text", "text": ""})));
    events.push(delta(0, json!({"type": "text_delta", "text": "Hello"})));
    events.push(delta(0, json!({"type": "text_delta", "text": " there."})));
    events.push(stop(0));
    events.extend(end("end_turn", 16));
    hub(Value::Array(events))
}

#[test]
fn a_text_stream_is_the_event_sequence_openai_sends() {
    let events = encode(plain_meta(false), &text_stream());
    // The same events, in the same order, as OpenAI's own text stream.
    let real = parse_sse(&fixture_text("openai_responses_text.sse"));
    let mut real_types = types(&real);
    real_types.dedup();
    let mut ours = types(&events);
    ours.dedup();
    assert_eq!(ours, real_types);
    for (name, data) in &events {
        let (_, theirs) = real.iter().find(|(n, _)| n == name).unwrap();
        for key in theirs.as_object().unwrap().keys() {
            assert!(data.get(key).is_some(), "{name} lacks {key:?}: {data}");
        }
    }
    assert_sequence_numbers(&events);
    let created = &events[0].1["response"];
    assert_eq!(
        (
            created["status"].clone(),
            created["output"].clone(),
            created["usage"].clone()
        ),
        (json!("in_progress"), json!([]), Value::Null)
    );
    let deltas: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["Hello", " there."]);
    let item_id = &events[2].1["item"]["id"];
    assert!(events[3..events.len() - 1]
        .iter()
        .all(|(_, d)| &d["item_id"] == item_id || &d["item"]["id"] == item_id));
    let done = &events[events.len() - 2].1["item"];
    assert_eq!(done["content"][0]["text"], "Hello there.");
    assert_eq!(done["status"], "completed");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"][0], *done);
    assert_eq!(completed["usage"]["total_tokens"], 26);
}

#[test]
fn thinking_streams_as_reasoning_summary_events_before_the_text() {
    let mut events = vec![start(10)];
    events.extend(block(
        0,
        json!({"type": "thinking", "thinking": "", "signature": ""}),
    ));
    events.push(delta(
        0,
        json!({"type": "thinking_delta", "thinking": "Let me think"}),
    ));
    events.push(delta(
        0,
        json!({"type": "thinking_delta", "thinking": " it through."}),
    ));
    events.push(delta(
        0,
        json!({"type": "signature_delta", "signature": "EqQB"}),
    ));
    events.push(stop(0));
    events.extend(block(1, json!({"type": "text", "text": ""})));
    events.push(delta(1, json!({"type": "text_delta", "text": "42"})));
    events.push(stop(1));
    events.extend(end("end_turn", 30));
    let events = encode(plain_meta(true), &hub(Value::Array(events)));
    assert_eq!(
        types(&events)[..10],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
        ]
    );
    assert_sequence_numbers(&events);
    let reasoning = &events[8].1;
    assert_eq!(reasoning["output_index"], 0);
    assert_eq!(
        reasoning["item"]["summary"],
        json!([{"type": "summary_text", "text": "Let me think it through."}])
    );
    assert_eq!(events[4].1["summary_index"], 0);
    assert_eq!(events[4].1["item_id"], reasoning["item"]["id"]);
    assert_eq!(events[6].1["text"], "Let me think it through.");
    assert_eq!(
        events[9].1["output_index"], 1,
        "the message is the second item"
    );
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["output"].as_array().unwrap().len(), 2);
    assert_eq!(
        completed["usage"]["output_tokens_details"]["reasoning_tokens"],
        6
    );

    // Without summaries: the item, but no summary events and no text.
    let quiet = encode(
        plain_meta(false),
        &hub(json!([start(1),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}},
        delta(0, json!({"type": "thinking_delta", "thinking": "hidden"})), stop(0), end("end_turn", 3)[0], end("end_turn", 3)[1]])),
    );
    assert_eq!(
        types(&quiet),
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert!(!quiet.iter().any(|(_, d)| d.to_string().contains("hidden")));
}

#[test]
fn parallel_function_calls_are_items_with_their_own_indexes_and_arguments() {
    let meta = meta_for(
        json!({"model": "m", "input": "Hi", "tools": [{"type": "function", "name": "get_weather"}]}),
    );
    let mut events = vec![start(10)];
    events.extend(block(0, json!({"type": "text", "text": ""})));
    events.push(delta(
        0,
        json!({"type": "text_delta", "text": "Checking both."}),
    ));
    events.push(stop(0));
    for (index, (id, city)) in [(1, ("toolu_a", "Paris")), (2, ("toolu_b", "Oslo"))] {
        events.extend(block(
            index,
            json!({"type": "tool_use", "id": id, "name": "get_weather", "input": {}}),
        ));
        events.push(delta(
            index,
            json!({"type": "input_json_delta", "partial_json": ""}),
        ));
        events.push(delta(
            index,
            json!({"type": "input_json_delta", "partial_json": "{\"city\": "}),
        ));
        events.push(delta(
            index,
            json!({"type": "input_json_delta", "partial_json": format!("\"{city}\"}}")}),
        ));
        events.push(stop(index));
    }
    events.extend(end("tool_use", 40));
    let events = encode(meta, &hub(Value::Array(events)));
    assert_sequence_numbers(&events);
    let added: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.output_item.added")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(added.len(), 3);
    assert_eq!(added[1]["output_index"], 1);
    assert_eq!(
        added[1]["item"],
        json!({"id": "fc_TEST01", "type": "function_call", "status": "in_progress",
        "call_id": "toolu_a", "name": "get_weather", "arguments": ""})
    );
    assert_eq!(added[2]["item"]["call_id"], "toolu_b");
    let deltas: Vec<(&Value, &str)> = events
        .iter()
        .filter(|(n, _)| n == "response.function_call_arguments.delta")
        .map(|(_, d)| (&d["output_index"], d["delta"].as_str().unwrap()))
        .collect();
    assert_eq!(
        deltas,
        [
            (&json!(1), "{\"city\": "),
            (&json!(1), "\"Paris\"}"),
            (&json!(2), "{\"city\": "),
            (&json!(2), "\"Oslo\"}")
        ]
    );
    let done: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.function_call_arguments.done")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(done[1]["arguments"], "{\"city\": \"Oslo\"}");
    assert_eq!(done[1]["item_id"], "fc_TEST02");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(events.last().unwrap().0, "response.completed");
    assert_eq!(
        completed["output"][2],
        json!({"id": "fc_TEST02", "type": "function_call", "status": "completed",
        "call_id": "toolu_b", "name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"})
    );
}

#[test]
fn a_custom_tool_call_streams_its_input_whole_and_a_call_without_arguments_gets_braces() {
    let meta = meta_for(
        json!({"model": "m", "input": "Hi", "tools": [{"type": "custom", "name": "apply_patch"},
        {"type": "function", "name": "list"}]}),
    );
    let mut events = vec![start(5)];
    events.extend(block(
        0,
        json!({"type": "tool_use", "id": "toolu_p", "name": "apply_patch", "input": {}}),
    ));
    events.push(delta(
        0,
        json!({"type": "input_json_delta", "partial_json": "{\"input\": \"*** Begin"}),
    ));
    events.push(delta(
        0,
        json!({"type": "input_json_delta", "partial_json": " Patch\\n\"}"}),
    ));
    events.push(stop(0));
    events.extend(block(
        1,
        json!({"type": "tool_use", "id": "toolu_l", "name": "list", "input": {}}),
    ));
    events.push(stop(1));
    events.extend(end("tool_use", 9));
    let events = encode(meta, &hub(Value::Array(events)));
    assert_eq!(
        types(&events)[2..],
        [
            "response.output_item.added",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    assert_eq!(events[3].1["delta"], "*** Begin Patch\n");
    assert_eq!(events[5].1["item"]["input"], "*** Begin Patch\n");
    assert_eq!(events[5].1["item"]["type"], "custom_tool_call");
    assert_eq!(events[7].1["delta"], "{}");
    assert_eq!(events[9].1["item"]["arguments"], "{}");
}

#[test]
fn a_stop_at_the_token_limit_ends_with_response_incomplete() {
    let mut events = hub(
        json!([start(3), {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        delta(0, json!({"type": "text_delta", "text": "Once"})), stop(0)]),
    );
    events.extend(hub(json!(end("max_tokens", 1))));
    let events = encode(plain_meta(false), &events);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "response.incomplete");
    assert_eq!(last["response"]["status"], "incomplete");
    assert_eq!(
        last["response"]["incomplete_details"],
        json!({"reason": "max_output_tokens"})
    );
}

#[test]
fn an_error_closes_open_items_and_ends_with_response_failed() {
    let events = hub(json!([start(3),
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        delta(0, json!({"type": "text_delta", "text": "Half"})),
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        {"type": "message_stop"}]));
    let events = encode(plain_meta(false), &events);
    assert_sequence_numbers(&events);
    let names = types(&events);
    assert_eq!(
        names[names.len() - 5..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "error",
            "response.failed"
        ]
    );
    let item = &events[events.len() - 3].1["item"];
    assert_eq!(item["status"], "incomplete");
    let error = &events[events.len() - 2].1;
    assert_eq!(
        (error["code"].clone(), error["message"].clone()),
        (json!("overloaded_error"), json!("Overloaded"))
    );
    assert!(
        error.get("error").is_none(),
        "an SDK raises on a top-level error key only for broken events"
    );
    let failed = &events.last().unwrap().1["response"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(
        failed["error"],
        json!({"code": "overloaded_error", "message": "Overloaded"})
    );
    assert_eq!(failed["output"][0]["content"][0]["text"], "Half");
}

#[test]
fn pings_are_comments() {
    let mut encoder = ResponsesEvents::new(plain_meta(false));
    let mut out = BytesMut::new();
    encoder.encode(&hub(json!([start(1), {"type": "ping"}])), &mut out);
    assert!(std::str::from_utf8(&out)
        .unwrap()
        .ends_with("\n\n: ping\n\n"));
    assert_eq!(encoder.ping().as_ref(), b": ping\n\n");
}

#[test]
fn a_thinking_block_with_only_a_signature_is_no_reasoning_item() {
    // What a Gemini call's thought signature looks like on the hub: an
    // empty thinking block, signed, right before the call.
    let mut events = vec![start(10)];
    events.extend(block(
        0,
        json!({"type": "thinking", "thinking": "", "signature": ""}),
    ));
    events.push(delta(
        0,
        json!({"type": "signature_delta", "signature": "gemini:U0lH"}),
    ));
    events.push(stop(0));
    events.extend(block(
        1,
        json!({"type": "tool_use", "id": "toolu_gmX-0", "name": "get_weather", "input": {}}),
    ));
    events.push(delta(
        1,
        json!({"type": "input_json_delta", "partial_json": "{}"}),
    ));
    events.push(stop(1));
    events.extend(end("tool_use", 5));
    let events = encode(plain_meta(true), &hub(Value::Array(events)));
    assert_sequence_numbers(&events);
    let added: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.output_item.added")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0]["output_index"], 0);
    assert_eq!(added[0]["item"]["type"], "function_call");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["output"].as_array().unwrap().len(), 1);
    assert_eq!(completed["output"][0]["call_id"], "toolu_gmX-0");
}

#[test]
fn a_thinking_block_that_starts_empty_is_announced_with_its_first_text() {
    let mut events = vec![start(10)];
    events.extend(block(
        0,
        json!({"type": "thinking", "thinking": "", "signature": ""}),
    ));
    events.push(delta(
        0,
        json!({"type": "thinking_delta", "thinking": "Hmm."}),
    ));
    events.push(stop(0));
    events.extend(end("end_turn", 5));
    let events = encode(plain_meta(true), &hub(Value::Array(events)));
    assert_sequence_numbers(&events);
    let names = types(&events);
    let added = names
        .iter()
        .position(|n| *n == "response.output_item.added")
        .expect("the reasoning item is added");
    let first_delta = names
        .iter()
        .position(|n| *n == "response.reasoning_summary_text.delta")
        .expect("its text streams");
    assert!(added < first_delta, "{names:?}");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["output"][0]["type"], "reasoning");
    assert_eq!(completed["output"][0]["summary"][0]["text"], "Hmm.");
}

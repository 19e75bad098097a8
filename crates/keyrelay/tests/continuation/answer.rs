//! That a client got one well-formed answer, in its own API's terms: one
//! start, blocks or items numbered in order and each closed once, one end.

use serde_json::Value;

use crate::fronts::Front;

/// The `data:` payloads of a stream (and the `event:` names, where given).
pub fn events(body: &str) -> Vec<(Option<String>, String)> {
    let body = body.replace("\r\n", "\n");
    body.split("\n\n")
        .filter_map(|event| {
            let name = event
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .map(str::to_owned);
            let data = event.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((name, data.to_owned()))
        })
        .collect()
}

fn json(data: &str) -> Value {
    serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"))
}

pub fn one_answer(front: Front, body: &str) {
    let events = events(body);
    match front {
        Front::Messages => messages(&events, body),
        Front::Chat => chat(&events, body),
        Front::Responses => responses(&events, body),
        Front::Gemini => gemini(&events, body),
    }
}

fn messages(events: &[(Option<String>, String)], body: &str) {
    let mut open = None;
    let mut next = 0;
    let mut starts = 0;
    for (_, data) in events {
        let event = json(data);
        match event["type"].as_str().unwrap() {
            "message_start" => starts += 1,
            "content_block_start" => {
                assert_eq!(open, None, "{body}");
                assert_eq!(event["index"], next, "{body}");
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => {
                assert_eq!(Some(event["index"].as_u64().unwrap()), open, "{body}")
            }
            "content_block_stop" => {
                assert_eq!(Some(event["index"].as_u64().unwrap()), open, "{body}");
                open = None;
            }
            "error" => panic!("an error event: {body}"),
            _ => {}
        }
    }
    assert_eq!(starts, 1, "one message_start: {body}");
}

fn chat(events: &[(Option<String>, String)], body: &str) {
    let chunks: Vec<Value> = events
        .iter()
        .filter(|(_, d)| d != "[DONE]")
        .map(|(_, d)| json(d))
        .collect();
    let roles = chunks
        .iter()
        .filter(|c| c["choices"][0]["delta"].get("role").is_some())
        .count();
    let finishes = chunks
        .iter()
        .filter(|c| !c["choices"][0]["finish_reason"].is_null())
        .count();
    assert_eq!(
        (roles, finishes),
        (1, 1),
        "one role chunk, one finish: {body}"
    );
    assert_eq!(
        events.last().map(|(_, d)| d.as_str()),
        Some("[DONE]"),
        "{body}"
    );
}

fn responses(events: &[(Option<String>, String)], body: &str) {
    let typed: Vec<Value> = events.iter().map(|(_, d)| json(d)).collect();
    let count = |kind: &str| typed.iter().filter(|e| e["type"] == kind).count();
    assert_eq!(count("response.created"), 1, "{body}");
    assert_eq!(count("response.completed"), 1, "{body}");
    assert_eq!(
        count("response.output_item.added"),
        count("response.output_item.done"),
        "{body}"
    );
    for (n, event) in typed.iter().enumerate() {
        assert_eq!(
            event["sequence_number"], n,
            "sequence numbers from 0: {body}"
        );
    }
}

fn gemini(events: &[(Option<String>, String)], body: &str) {
    let chunks: Vec<Value> = events.iter().map(|(_, d)| json(d)).collect();
    let finishes: Vec<usize> = chunks
        .iter()
        .enumerate()
        .filter(|(_, c)| c["candidates"][0].get("finishReason").is_some())
        .map(|(n, _)| n)
        .collect();
    assert_eq!(finishes, [chunks.len() - 1], "one finish, last: {body}");
    assert!(chunks.iter().all(|c| c.get("error").is_none()), "{body}");
}

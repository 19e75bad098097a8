//! Provider streams, read back into hub events by each provider's translator,
//! written as Responses API events for a Responses client (Codex CLI, the
//! openai SDKs): the Anthropic docs' streams and recorded Gemini streams
//! (see `fixtures/SOURCES-chat.md` and `SOURCES-gemini.md`).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use bytes::BytesMut;
use dialects::anthropic::AnthropicUpstream;
use dialects::gemini::Gemini;
use dialects::openai::responses_in::{
    RequestEcho, ResponsesEvents, ResponsesMeta, ResponsesRequest,
};
use dialects::{StreamEncode, Translator};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn meta(echo: RequestEcho) -> ResponsesMeta {
    ResponsesMeta {
        id: "resp_TEST".into(),
        model: "client-model".into(),
        created_at: 1_735_689_600,
        echo: Arc::new(echo),
    }
}

fn summaries() -> RequestEcho {
    let request: ResponsesRequest = serde_json::from_value(json!({"model": "m", "input": "Hi",
        "reasoning": {"effort": "high", "summary": "auto"}}))
    .unwrap();
    request.to_messages().unwrap().echo
}

/// Provider bytes (in the given pieces) through `translator`, then
/// Responses events; the body ends normally, or breaks with `broken`.
fn responses_stream<'a>(
    translator: &dyn Translator,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    echo: RequestEcho,
    broken: Option<&str>,
) -> String {
    let mut stream = translator.stream("client-model", "msg_01TEST");
    let mut encoder = ResponsesEvents::new(meta(echo));
    let mut out = BytesMut::new();
    let mut events = Vec::new();
    for piece in pieces {
        events.clear();
        stream.push(piece, &mut events);
        encoder.encode(&events, &mut out);
    }
    events.clear();
    stream.finish(broken, &mut events);
    encoder.encode(&events, &mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

/// What the openai SDK's stream helper builds from the events, checking
/// what it checks: `response.created` first, one id throughout, each item
/// added before its deltas and done with the same identity, sequence
/// numbers in order.
#[derive(Debug, Default)]
struct Accumulated {
    types: Vec<String>,
    items: Vec<Value>,
    text: String,
    summary: String,
    arguments: Vec<String>,
    completed: Option<Value>,
    failed: Option<Value>,
}

fn accumulate(sse: &str) -> Accumulated {
    let mut acc = Accumulated::default();
    let mut open: Vec<Option<Value>> = Vec::new();
    for (n, event) in sse
        .split("\n\n")
        .filter(|e| !e.trim().is_empty() && !e.starts_with(':'))
        .enumerate()
    {
        let (name, data) = event.split_once('\n').unwrap();
        let name = name.strip_prefix("event: ").unwrap();
        let data: Value = serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["type"], name);
        assert_eq!(data["sequence_number"], n, "{data}");
        if n == 0 {
            assert_eq!(name, "response.created");
        }
        if let Some(response) = data.get("response") {
            assert_eq!(response["id"], "resp_TEST");
            assert_eq!(response["model"], "client-model");
        }
        let index = data["output_index"].as_u64().map(|i| i as usize);
        match name {
            "response.output_item.added" => {
                assert_eq!(index, Some(open.len()), "items are added in order");
                open.push(Some(data["item"].clone()));
                acc.arguments.push(String::new());
            }
            "response.output_text.delta" => acc.text += data["delta"].as_str().unwrap(),
            "response.reasoning_summary_text.delta" => {
                acc.summary += data["delta"].as_str().unwrap()
            }
            "response.function_call_arguments.delta" => {
                acc.arguments[index.unwrap()] += data["delta"].as_str().unwrap();
            }
            "response.output_item.done" => {
                let added = open[index.unwrap()].take().expect("done once, after added");
                assert_eq!(added["id"], data["item"]["id"]);
                assert_eq!(added["call_id"], data["item"]["call_id"]);
                acc.items.push(data["item"].clone());
            }
            "response.completed" | "response.incomplete" => {
                acc.completed = Some(data["response"].clone())
            }
            "response.failed" => acc.failed = Some(data["response"].clone()),
            _ => {}
        }
        if let Some(item_id) = data.get("item_id") {
            let item = open[index.unwrap()]
                .as_ref()
                .expect("an event for an open item");
            assert_eq!(&item["id"], item_id);
        }
        acc.types.push(name.to_owned());
    }
    assert!(open.iter().all(Option::is_none), "every item is done");
    acc
}

#[test]
fn an_anthropic_tool_stream_becomes_a_message_then_a_function_call() {
    let acc = accumulate(&responses_stream(
        &AnthropicUpstream,
        [fixture("anthropic_tool_use.sse").as_slice()],
        RequestEcho::default(),
        None,
    ));
    assert_eq!(
        acc.text,
        "Okay, let's check the weather for San Francisco, CA:"
    );
    assert_eq!(acc.items.len(), 2);
    let call = &acc.items[1];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["call_id"], "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        acc.arguments[1],
        call["arguments"].as_str().unwrap(),
        "the deltas add up to the arguments"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&acc.arguments[1]).unwrap(),
        json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
    );
    let completed = acc.completed.unwrap();
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["output"], Value::Array(acc.items));
    assert_eq!(completed["usage"]["input_tokens"], 472);
    assert_eq!(completed["usage"]["output_tokens"], 89);
    assert_eq!(completed["usage"]["total_tokens"], 561);
}

#[test]
fn a_call_without_arguments_becomes_a_function_call_with_an_empty_object() {
    for name in [
        "anthropic_tool_no_args.sse",
        "anthropic_tool_no_args_no_delta.sse",
    ] {
        let acc = accumulate(&responses_stream(
            &AnthropicUpstream,
            [fixture(name).as_slice()],
            RequestEcho::default(),
            None,
        ));
        assert_eq!(acc.text, "I'll update the issue list for you.", "{name}");
        let call = &acc.items[1];
        assert_eq!(call["call_id"], "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "{name}");
        assert_eq!(call["arguments"], "{}", "{name}");
        assert_eq!(acc.arguments[1], "{}", "{name}: the deltas add up to it");
    }
}

#[test]
fn anthropic_thinking_becomes_reasoning_summary_events() {
    let acc = accumulate(&responses_stream(
        &AnthropicUpstream,
        [fixture("anthropic_thinking.sse").as_slice()],
        summaries(),
        None,
    ));
    assert!(acc.summary.starts_with("I need to find the GCD"), "{acc:?}");
    assert_eq!(acc.items[0]["type"], "reasoning");
    assert_eq!(acc.items[0]["summary"][0]["text"], acc.summary.as_str());
    assert_eq!(
        acc.text,
        "The greatest common divisor of 1071 and 462 is **21**."
    );
    for kind in [
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
    ] {
        assert_eq!(acc.types.iter().filter(|t| *t == kind).count(), 1, "{kind}");
    }
}

#[test]
fn gemini_parallel_calls_become_two_function_call_items() {
    let acc = accumulate(&responses_stream(
        &Gemini,
        [fixture("gemini_parallel_calls.sse").as_slice()],
        RequestEcho::default(),
        None,
    ));
    let calls: Vec<&Value> = acc
        .items
        .iter()
        .filter(|i| i["type"] == "function_call")
        .collect();
    assert_eq!(calls.len(), 2, "{acc:?}");
    assert_ne!(calls[0]["call_id"], calls[1]["call_id"]);
    let cities: Vec<Value> = calls
        .iter()
        .map(|c| serde_json::from_str(c["arguments"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(cities, [json!({"city": "Paris"}), json!({"city": "Tokyo"})]);
    assert_eq!(acc.completed.unwrap()["usage"]["total_tokens"], 37);
}

#[test]
fn a_broken_stream_ends_with_response_failed() {
    let acc = accumulate(&responses_stream(
        &AnthropicUpstream,
        [&fixture("anthropic_tool_use.sse")[..900]],
        RequestEcho::default(),
        Some("upstream stream broke: connection reset"),
    ));
    assert!(acc.completed.is_none());
    let failed = acc.failed.expect("response.failed");
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"]["message"]
        .as_str()
        .unwrap()
        .contains("connection reset"));
    assert_eq!(acc.types[acc.types.len() - 2], "error");
}

proptest! {
    #[test]
    fn the_events_do_not_depend_on_how_the_provider_bytes_were_split(cuts in proptest::collection::vec(0usize..4000, 0..12)) {
        for (translator, name) in [(&AnthropicUpstream as &dyn Translator, "anthropic_thinking.sse"), (&AnthropicUpstream, "anthropic_tool_use.sse"), (&Gemini, "gemini_parallel_calls.sse")] {
            let bytes = fixture(name);
            let whole = responses_stream(translator, [bytes.as_slice()], summaries(), None);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                pieces.push(&bytes[start..cut]);
                start = cut;
            }
            prop_assert_eq!(responses_stream(translator, pieces, summaries(), None), whole);
        }
    }
}

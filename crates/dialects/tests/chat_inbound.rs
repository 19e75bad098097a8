//! Provider streams, read back into hub events by each provider's translator,
//! written as `chat.completion.chunk` events for an OpenAI Chat client: the
//! Anthropic docs' streams, recorded Anthropic streams of a tool call without
//! arguments and recorded Gemini streams (see `fixtures/SOURCES-chat.md`).

#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use dialects::anthropic::{AnthropicUpstream, ContentBlock, Delta, StreamEvent};
use dialects::gemini::Gemini;
use dialects::ollama::Ollama;
use dialects::openai::inbound::{completion, ChatChunks, ChatMeta};
use dialects::openai::OpenAiChat;
use dialects::{StreamEncode, Translator};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn meta() -> ChatMeta {
    ChatMeta {
        id: "chatcmpl-test".into(),
        model: "client-model".into(),
        created: 1_735_689_600,
    }
}

/// Provider bytes (in the given pieces) through `translator`, then Chat
/// chunks; the body ends normally, or breaks with `broken`.
fn chat_stream<'a>(
    translator: &dyn Translator,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    include_usage: bool,
    broken: Option<&str>,
) -> String {
    let mut stream = translator.stream("client-model", "msg_01TEST");
    let mut chunks = ChatChunks::new(meta(), include_usage);
    let mut out = BytesMut::new();
    let mut events = Vec::new();
    for piece in pieces {
        events.clear();
        stream.push(piece, &mut events);
        chunks.encode(&events, &mut out);
    }
    events.clear();
    stream.finish(broken, &mut events);
    chunks.encode(&events, &mut out);
    String::from_utf8(out.to_vec()).expect("UTF-8")
}

/// Every `data:` payload, `[DONE]` as a string.
fn data(sse: &str) -> Vec<Value> {
    sse.split("\n\n")
        .filter_map(|event| event.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| Value::String(d.to_owned())))
        .collect()
}

/// What an OpenAI SDK accumulates from the chunks.
#[derive(Debug, Default, PartialEq)]
struct Accumulated {
    role: Option<String>,
    content: String,
    reasoning: String,
    /// (index, id, name, arguments)
    calls: Vec<(u64, String, String, String)>,
    finish: Option<String>,
    usage: Option<Value>,
    done: bool,
}

fn accumulate(chunks: &[Value]) -> Accumulated {
    let mut acc = Accumulated::default();
    for chunk in chunks {
        if chunk == "[DONE]" {
            acc.done = true;
            continue;
        }
        assert_eq!(chunk["object"], "chat.completion.chunk", "{chunk}");
        assert_eq!(chunk["id"], "chatcmpl-test");
        assert_eq!(chunk["model"], "client-model");
        if !chunk["usage"].is_null() {
            assert_eq!(chunk["choices"], json!([]), "usage chunk: {chunk}");
            acc.usage = Some(chunk["usage"].clone());
        }
        for choice in chunk["choices"].as_array().unwrap() {
            let delta = &choice["delta"];
            if let Some(role) = delta["role"].as_str() {
                acc.role = Some(role.to_owned());
            }
            acc.content += delta["content"].as_str().unwrap_or("");
            acc.reasoning += delta["reasoning_content"].as_str().unwrap_or("");
            for call in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = call["index"].as_u64().unwrap();
                let at = match acc.calls.iter().position(|c| c.0 == index) {
                    Some(at) => at,
                    None => {
                        acc.calls
                            .push((index, String::new(), String::new(), String::new()));
                        acc.calls.len() - 1
                    }
                };
                let entry = &mut acc.calls[at];
                entry.1 += call["id"].as_str().unwrap_or("");
                entry.2 += call["function"]["name"].as_str().unwrap_or("");
                entry.3 += call["function"]["arguments"].as_str().unwrap_or("");
            }
            if let Some(finish) = choice["finish_reason"].as_str() {
                acc.finish = Some(finish.to_owned());
            }
        }
    }
    acc
}

#[test]
fn an_anthropic_tool_stream_becomes_role_text_tool_call_finish_usage_and_done() {
    let sse = chat_stream(
        &AnthropicUpstream,
        [fixture("anthropic_tool_use.sse").as_slice()],
        true,
        None,
    );
    let chunks = data(&sse);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert!(
        chunks[..chunks.len() - 2]
            .iter()
            .all(|c| c["usage"].is_null()),
        "usage is null until the usage chunk"
    );
    let acc = accumulate(&chunks);
    assert_eq!(acc.role.as_deref(), Some("assistant"));
    assert_eq!(
        acc.content,
        "Okay, let's check the weather for San Francisco, CA:"
    );
    assert_eq!(acc.calls.len(), 1);
    let (index, id, name, arguments) = &acc.calls[0];
    assert_eq!(
        (index, id.as_str(), name.as_str()),
        (&0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    );
    assert_eq!(
        serde_json::from_str::<Value>(arguments).unwrap(),
        json!({"location": "San Francisco, CA", "unit": "fahrenheit"})
    );
    assert_eq!(acc.finish.as_deref(), Some("tool_calls"));
    assert_eq!(
        acc.usage,
        Some(
            json!({"prompt_tokens": 472, "completion_tokens": 89, "total_tokens": 561,
            "prompt_tokens_details": {"cached_tokens": 0}})
        )
    );
    assert!(acc.done);
    assert_eq!(chunks.last(), Some(&json!("[DONE]")));
    // The upstream's ping is a comment the client skips.
    assert!(sse.contains("\n\n: ping\n\n"), "{sse}");
}

#[test]
fn the_usage_chunk_comes_last_before_done_and_only_when_asked() {
    let with = data(&chat_stream(
        &AnthropicUpstream,
        [fixture("anthropic_tool_use.sse").as_slice()],
        true,
        None,
    ));
    let n = with.len();
    assert_eq!(with[n - 2]["choices"], json!([]));
    assert_eq!(with[n - 3]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(with[n - 3]["choices"][0]["delta"], json!({}));
    let without = data(&chat_stream(
        &AnthropicUpstream,
        [fixture("anthropic_tool_use.sse").as_slice()],
        false,
        None,
    ));
    assert!(
        without.iter().all(|c| c.get("usage").is_none()),
        "no usage field at all"
    );
    assert_eq!(without.len(), n - 1);
}

#[test]
fn anthropic_thinking_becomes_reasoning_content_before_the_text() {
    let acc = accumulate(&data(&chat_stream(
        &AnthropicUpstream,
        [fixture("anthropic_thinking.sse").as_slice()],
        false,
        None,
    )));
    assert!(
        acc.reasoning.starts_with("I need to find the GCD"),
        "{acc:?}"
    );
    assert!(acc.reasoning.ends_with("GCD(1071, 462) = 21."));
    assert_eq!(
        acc.content,
        "The greatest common divisor of 1071 and 462 is **21**."
    );
    assert_eq!(acc.finish.as_deref(), Some("stop"));
    assert!(acc.done);
}

#[test]
fn gemini_parallel_calls_become_tool_calls_with_their_own_indexes() {
    let acc = accumulate(&data(&chat_stream(
        &Gemini,
        [fixture("gemini_parallel_calls.sse").as_slice()],
        true,
        None,
    )));
    assert_eq!(acc.calls.len(), 2, "{acc:?}");
    assert_eq!((acc.calls[0].0, acc.calls[1].0), (0, 1));
    assert_ne!(acc.calls[0].1, acc.calls[1].1, "each call has its own id");
    assert!(acc.calls.iter().all(|c| c.2 == "get_weather"));
    let cities: Vec<Value> = acc
        .calls
        .iter()
        .map(|c| serde_json::from_str(&c.3).unwrap())
        .collect();
    assert_eq!(cities, [json!({"city": "Paris"}), json!({"city": "Tokyo"})]);
    assert_eq!(acc.finish.as_deref(), Some("tool_calls"));
    assert_eq!(acc.usage.unwrap()["total_tokens"], 37);
}

#[test]
fn a_gemini_text_stream_becomes_content_deltas() {
    let acc = accumulate(&data(&chat_stream(
        &Gemini,
        [fixture("gemini_text.sse").as_slice()],
        false,
        None,
    )));
    assert!(!acc.content.is_empty());
    assert_eq!(acc.finish.as_deref(), Some("stop"));
    assert!(acc.done);
}

#[test]
fn an_upstream_error_becomes_an_openai_error_chunk_without_done() {
    let mut stream = fixture("anthropic_tool_use.sse");
    stream.truncate(stream.len() / 2);
    let cut = stream.iter().rposition(|b| *b == b'\n').unwrap();
    stream.truncate(cut + 1);
    stream.extend_from_slice(b"\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    let chunks = data(&chat_stream(
        &AnthropicUpstream,
        [stream.as_slice()],
        true,
        None,
    ));
    let last = chunks.last().unwrap();
    assert_eq!(
        last,
        &json!({"error": {"message": "Overloaded", "type": "overloaded_error", "param": null, "code": null}})
    );
    assert!(!chunks.contains(&json!("[DONE]")));

    let broken = data(&chat_stream(
        &AnthropicUpstream,
        [&fixture("anthropic_tool_use.sse")[..900]],
        false,
        Some("upstream stream broke: connection reset"),
    ));
    let last = broken.last().unwrap();
    assert_eq!(last["error"]["type"], "api_error");
    assert!(last["error"]["message"]
        .as_str()
        .unwrap()
        .contains("connection reset"));
}

/// Every `delta.tool_calls[]` piece, in the order the client gets them.
fn tool_call_pieces(chunks: &[Value]) -> Vec<Value> {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .cloned()
        .collect()
}

#[test]
fn a_tool_call_without_arguments_streams_as_empty_object() {
    // Anthropic sends one empty `input_json_delta` for it, or none at all.
    for name in [
        "anthropic_tool_no_args.sse",
        "anthropic_tool_no_args_no_delta.sse",
    ] {
        let chunks = data(&chat_stream(
            &AnthropicUpstream,
            [fixture(name).as_slice()],
            true,
            None,
        ));
        let acc = accumulate(&chunks);
        assert_eq!(acc.content, "I'll update the issue list for you.", "{name}");
        assert_eq!(
            acc.calls,
            [(
                0,
                "toolu_01QE1WLsSVp5hy5Q3GmGTmjP".to_owned(),
                "updateIssueList".to_owned(),
                "{}".to_owned()
            )],
            "{name}"
        );
        assert_eq!(acc.finish.as_deref(), Some("tool_calls"), "{name}");
        assert!(acc.done, "{name}");
        // OpenAI's shape: the call's id, type and name with empty arguments,
        // then the arguments in a piece of their own.
        assert_eq!(
            tool_call_pieces(&chunks),
            [
                json!({"index": 0, "id": "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", "type": "function",
                    "function": {"name": "updateIssueList", "arguments": ""}}),
                json!({"index": 0, "function": {"arguments": "{}"}}),
            ],
            "{name}"
        );
    }
}

#[test]
fn a_call_with_arguments_after_one_without_keeps_its_own_index_and_arguments() {
    let chunks = data(&chat_stream(
        &AnthropicUpstream,
        [fixture("anthropic_parallel_tool_no_args.sse").as_slice()],
        false,
        None,
    ));
    let acc = accumulate(&chunks);
    assert_eq!(acc.content, "I'll update the issue list for you.");
    assert_eq!(acc.calls.len(), 2, "{acc:?}");
    assert_eq!(
        acc.calls[0],
        (
            0,
            "toolu_01QE1WLsSVp5hy5Q3GmGTmjP".to_owned(),
            "updateIssueList".to_owned(),
            "{}".to_owned()
        )
    );
    let (index, id, name, arguments) = &acc.calls[1];
    assert_eq!(
        (index, id.as_str(), name.as_str()),
        (&1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    );
    // Exactly the text Anthropic streamed: nothing added to a call that has arguments.
    assert_eq!(
        arguments,
        r#"{"location": "San Francisco, CA", "unit": "fahrenheit"}"#
    );
    // The first call's "{}" comes before the second call begins.
    let indexes: Vec<u64> = tool_call_pieces(&chunks)
        .iter()
        .map(|p| p["index"].as_u64().unwrap())
        .collect();
    let first_of_second = indexes.iter().position(|i| *i == 1).unwrap();
    assert!(
        indexes[first_of_second..].iter().all(|i| *i == 1),
        "{indexes:?}"
    );
    assert_eq!(acc.finish.as_deref(), Some("tool_calls"));
}

#[test]
fn the_whole_answer_gives_a_call_without_arguments_an_empty_object() {
    let body = fixture("anthropic_response_thinking_tool_use.json");
    let message = AnthropicUpstream
        .response(&body, "client-model", "msg_01TEST")
        .unwrap();
    let body = completion(&message, &meta());
    let calls = &body["choices"][0]["message"]["tool_calls"];
    assert_eq!(
        calls,
        &json!([{"id": "toolu_017R7ACrx7NF7sLDDtvdQ1u9", "type": "function",
            "function": {"name": "checkSandboxErrors", "arguments": "{}"}}])
    );
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn a_call_whose_arguments_came_in_its_start_block_streams_them() {
    // Some Anthropic-compatible servers put the whole input in
    // `content_block_start` and send no `input_json_delta`.
    let body = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Read\",\"input\":{\"file_path\":\"a.rs\"}}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let acc = accumulate(&data(&chat_stream(
        &AnthropicUpstream,
        [body.as_bytes()],
        false,
        None,
    )));
    assert_eq!(acc.calls.len(), 1, "{acc:?}");
    assert_eq!(
        serde_json::from_str::<Value>(&acc.calls[0].3).unwrap(),
        json!({"file_path": "a.rs"})
    );
}

/// One `data:` line per chunk.
fn sse_chunks(chunks: &[&str]) -> Vec<u8> {
    let mut body: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    body.into_bytes()
}

/// A call without arguments as each upstream dialect can send it: the hub
/// events an Anthropic client gets say `input: {}` (with no argument text,
/// or `{}`), and a Chat client's arguments add up to `{}`.
#[test]
fn a_call_without_arguments_from_any_upstream_dialect_reaches_chat_clients_as_empty_object() {
    let openai_call = |arguments: &[&str]| {
        let first = format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"role":"assistant","content":null,"tool_calls":[{{"index":0,"id":"call_1","type":"function","function":{{"name":"get_time","arguments":{}}}}}]}},"finish_reason":null}}]}}"#,
            json!(arguments[0])
        );
        let mut chunks = vec![first];
        for piece in &arguments[1..] {
            chunks.push(format!(
                r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"function":{{"arguments":{}}}}}]}},"finish_reason":null}}]}}"#,
                json!(piece)
            ));
        }
        chunks.push(r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#.to_owned());
        let chunks: Vec<&str> = chunks.iter().map(String::as_str).collect();
        sse_chunks(&chunks)
    };
    let gemini_call = |call: &str| {
        format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"functionCall\": {call}}}],\"role\": \"model\"}},\"finishReason\": \"STOP\",\"index\": 0}}],\"modelVersion\": \"gemini-2.5-flash\"}}\r\n\r\n"
        )
        .into_bytes()
    };
    let cases: Vec<(&str, &dyn Translator, Vec<u8>)> = vec![
        // OpenAI itself: "" in the first piece, then "{}".
        ("openai", &OpenAiChat, openai_call(&["", "{}"])),
        // Servers that never send more than "" (LiteLLM relaying Claude did).
        ("openai, empty arguments", &OpenAiChat, openai_call(&[""])),
        (
            "gemini, empty args",
            &Gemini,
            gemini_call(r#"{"name": "get_time", "args": {}}"#),
        ),
        (
            "gemini, no args",
            &Gemini,
            gemini_call(r#"{"name": "get_time"}"#),
        ),
        (
            "ollama",
            &Ollama,
            br#"{"model":"qwen3","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_time","arguments":{}}}]},"done":false}
{"model":"qwen3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":10,"eval_count":5}
"#
            .to_vec(),
        ),
    ];
    for (case, translator, body) in cases {
        let mut stream = translator.stream("client-model", "msg_01TEST");
        let mut events = Vec::new();
        stream.push(&body, &mut events);
        stream.finish(None, &mut events);
        let input: Vec<&Value> = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ContentBlockStart {
                    content_block: ContentBlock::ToolUse { name, input, .. },
                    ..
                } if name == "get_time" => Some(input),
                _ => None,
            })
            .collect();
        assert_eq!(input, [&json!({})], "{case}: {events:?}");
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::ContentBlockDelta {
                    delta: Delta::InputJsonDelta { partial_json },
                    ..
                } => Some(partial_json.as_str()),
                _ => None,
            })
            .collect();
        assert!(text.is_empty() || text == "{}", "{case}: {text:?}");

        let acc = accumulate(&data(&chat_stream(
            translator,
            [body.as_slice()],
            false,
            None,
        )));
        assert_eq!(acc.calls.len(), 1, "{case}: {acc:?}");
        assert_eq!(acc.calls[0].2, "get_time", "{case}");
        assert_eq!(acc.calls[0].3, "{}", "{case}");
    }
}

proptest! {
    #[test]
    fn the_chunks_do_not_depend_on_how_the_provider_bytes_were_split(cuts in proptest::collection::vec(0usize..4000, 0..12)) {
        for (translator, name) in [(&AnthropicUpstream as &dyn Translator, "anthropic_tool_use.sse"), (&AnthropicUpstream, "anthropic_parallel_tool_no_args.sse"), (&Gemini, "gemini_parallel_calls.sse")] {
            let bytes = fixture(name);
            let whole = chat_stream(translator, [bytes.as_slice()], true, None);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in cuts.into_iter().chain([bytes.len()]) {
                pieces.push(&bytes[start..cut]);
                start = cut;
            }
            prop_assert_eq!(chat_stream(translator, pieces, true, None), whole);
        }
    }
}

//! Translation speed: a Claude Code sized request into each provider's API,
//! and each provider's recorded stream into Anthropic events (reported per
//! provider byte, so MB/s; events/s = that rate × events per fixture byte,
//! printed once at start). The baseline is decoding the same stream with the
//! SSE/NDJSON decoder alone, which every translator has to do anyway.
//!
//! `claude_code.rs` benches what the gateway does with a Messages client's
//! bytes for an OpenAI Chat or Gemini provider (head, hub, written body) at
//! 1k, 10k and 100k tokens, against forwarding the same bytes.
//!
//! `fronts.rs` benches the other clients' directions (Chat, Responses and
//! Gemini clients through the hub), against the same `request/openai`.

mod claude_code;
mod clients;
mod fronts;

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dialects::anthropic::MessagesRequest;
use dialects::ndjson::NdjsonDecoder;
use dialects::sse::SseDecoder;
use dialects::{StreamTranslate, Translator};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .expect("fixture")
}

/// A request shaped like Claude Code's: a long system prompt, a dozen tools
/// with JSON schemas, and a conversation with tool calls and results.
fn claude_code_like_request() -> MessagesRequest {
    let schema = serde_json::json!({
        "type": "object", "$schema": "http://json-schema.org/draft-07/schema#", "additionalProperties": false,
        "properties": {
            "file_path": {"type": "string", "description": "The absolute path to the file"},
            "offset": {"type": "number"}, "limit": {"type": "number"},
            "edits": {"type": "array", "items": {"type": "object", "properties": {"old": {"type": "string"}, "new": {"type": "string"}}}}
        },
        "required": ["file_path"]
    });
    let tools: Vec<_> = (0..12)
        .map(|i| serde_json::json!({"name": format!("Tool{i}"), "description": "x".repeat(600), "input_schema": schema}))
        .collect();
    let mut messages = Vec::new();
    for i in 0..20 {
        messages.push(serde_json::json!({"role": "user", "content": [{"type": "text", "text": "please look at the code ".repeat(20)}]}));
        messages.push(serde_json::json!({"role": "assistant", "content": [
            {"type": "text", "text": "Reading it."},
            {"type": "tool_use", "id": format!("toolu_{i}"), "name": "Tool1", "input": {"file_path": "/src/main.rs"}}]}));
        messages.push(serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": "fn main() {}\n".repeat(100)}]}));
    }
    serde_json::from_value(serde_json::json!({
        "model": "claude-sonnet-4-5", "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code. ".repeat(400)}],
        "tools": tools, "messages": messages,
        "thinking": {"type": "enabled", "budget_tokens": 10000}
    }))
    .expect("request")
}

fn translators() -> Vec<(
    &'static str,
    &'static dyn Translator,
    &'static str,
    &'static str,
)> {
    vec![
        (
            "openai",
            &dialects::openai::OpenAiChat,
            "openai_parallel_tool_calls.sse",
            "gpt-4.1",
        ),
        (
            "gemini",
            &dialects::gemini::Gemini,
            "gemini_parallel_calls.sse",
            "gemini-2.5-flash",
        ),
        (
            "ollama",
            &dialects::ollama::Ollama,
            "ollama_thinking.ndjson",
            "gpt-oss:120b",
        ),
    ]
}

fn requests(c: &mut Criterion) {
    let request = claude_code_like_request();
    let size = serde_json::to_vec(&request).expect("json").len() as u64;
    let mut group = c.benchmark_group("request");
    group.throughput(Throughput::Bytes(size));
    group.bench_function("baseline_serialize_anthropic", |b| {
        b.iter(|| black_box(serde_json::to_vec(&request).map(|v| v.len())))
    });
    for (name, translator, _, model) in translators() {
        group.bench_function(name, |b| {
            b.iter(|| {
                let out = translator
                    .request_wire(&request, model)
                    .expect("translates");
                black_box(out.body.len())
            })
        });
    }
    group.finish();
}

fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream");
    for (name, translator, file, model) in translators() {
        let bytes = fixture(file);
        let mut events = Vec::new();
        let mut probe = translator.stream(model, "msg_bench");
        probe.push(&bytes, &mut events);
        probe.finish(None, &mut events);
        eprintln!("{name}: {} events from {} bytes", events.len(), bytes.len());
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        let chunks: Vec<&[u8]> = bytes.chunks(256).collect();
        group.bench_function(format!("{name}_baseline_decode_only"), |b| {
            b.iter(|| {
                let mut count = 0;
                if file.ends_with(".sse") {
                    let mut decoder = SseDecoder::default();
                    for chunk in &chunks {
                        count += decoder.push(chunk).map(|e| e.len()).unwrap_or(0);
                    }
                } else {
                    let mut decoder = NdjsonDecoder::default();
                    for chunk in &chunks {
                        count += decoder.push(chunk).map(|l| l.len()).unwrap_or(0);
                    }
                }
                black_box(count)
            })
        });
        group.bench_function(format!("{name}_translate_and_encode"), |b| {
            b.iter(|| {
                let mut translator: Box<dyn StreamTranslate> =
                    translator.stream(model, "msg_bench");
                let mut out = Vec::new();
                let mut wire = 0;
                for chunk in &chunks {
                    translator.push(chunk, &mut out);
                    wire += out.drain(..).map(|e| e.to_sse().len()).sum::<usize>();
                }
                translator.finish(None, &mut out);
                black_box(wire)
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    claude_code::requests,
    requests,
    streams,
    fronts::requests,
    fronts::responses,
    fronts::streams
);
criterion_main!(benches);

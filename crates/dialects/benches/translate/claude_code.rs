//! Claude Code shaped Messages requests of a chosen size, as the client's
//! bytes: a system prompt in cached blocks, up to twenty tools with JSON
//! schemas, and a history of user text, thinking (signed), text, tool calls
//! and tool results (file contents with quotes, tabs, newlines and
//! non-ASCII), at about four bytes per token. Deterministic: the same size
//! gives the same bytes.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use dialects::client::{ClientApi, ClientRequest, MESSAGES};
use dialects::Translator;
use serde::de::IgnoredAny;
use serde_json::{json, Value};

/// Claude Code's tool names, in the order it declares them.
const TOOLS: [&str; 20] = [
    "Task",
    "Bash",
    "Glob",
    "Grep",
    "ExitPlanMode",
    "Read",
    "Edit",
    "MultiEdit",
    "Write",
    "NotebookEdit",
    "WebFetch",
    "TodoWrite",
    "WebSearch",
    "BashOutput",
    "KillShell",
    "SlashCommand",
    "mcp__ide__getDiagnostics",
    "mcp__ide__executeCode",
    "mcp__github__search_code",
    "mcp__github__get_file",
];

/// A request of about `tokens` tokens (`4 × tokens` bytes).
pub fn request(tokens: usize) -> Vec<u8> {
    let budget = tokens * 4;
    let system_len = budget * 3 / 20;
    let tool_count = (budget / 4 / 900).clamp(1, TOOLS.len());
    let tools: Vec<Value> = TOOLS[..tool_count].iter().map(|name| tool(name)).collect();
    let mut request = json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 32000,
        "stream": true,
        "system": [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": prose(system_len, 1), "cache_control": {"type": "ephemeral"}}
        ],
        "tools": tools,
        "messages": [],
        "metadata": {"user_id": "user_5f0c_account_3e1d_session_0b6f2c55-8a1e-4c9e-9d1b-2f7a3c1e9b44"},
        "thinking": {"type": "enabled", "budget_tokens": 31999}
    });
    let mut messages = vec![json!({"role": "user", "content": [
        {"type": "text", "text": format!("<system-reminder>\nAs you answer the user's questions, you can use the following context:\n{}\n</system-reminder>", prose(600, 2))},
        {"type": "text", "text": "The importer drops rows whose date is empty — find out why and fix it. Don't touch the “legacy” path."}
    ]})];
    let mut turn = 0;
    while size_of(&request, &messages) < budget {
        messages.extend(exchange(turn));
        turn += 1;
    }
    if let Some(Value::Array(blocks)) = messages.last_mut().map(|m| &mut m["content"]) {
        if let Some(last) = blocks.last_mut() {
            last["cache_control"] = json!({"type": "ephemeral"});
        }
    }
    request["messages"] = Value::Array(messages);
    serde_json::to_vec(&request).expect("json")
}

fn size_of(request: &Value, messages: &[Value]) -> usize {
    let rest: usize = messages
        .iter()
        .map(|m| serde_json::to_vec(m).map_or(0, |v| v.len()))
        .sum();
    serde_json::to_vec(request).map_or(0, |v| v.len()) + rest
}

/// One step of the agent: it thinks, says a line, calls a tool, and the
/// tool answers; every fourth step the user adds a note.
fn exchange(turn: usize) -> Vec<Value> {
    let id = format!("toolu_01{:022}", turn * 7919);
    let (name, input) = match turn % 5 {
        0 => (
            "Read",
            json!({"file_path": format!("/home/dev/tidewater/src/import_{turn}.rs")}),
        ),
        1 => (
            "Grep",
            json!({"pattern": "parse_date\\(", "path": "/home/dev/tidewater", "output_mode": "content", "-n": true}),
        ),
        2 => (
            "Edit",
            json!({"file_path": format!("/home/dev/tidewater/src/import_{turn}.rs"),
                   "old_string": "    let date = row.get(3)?;\n    if date.is_empty() { return None; }",
                   "new_string": "    let date = row.get(3).filter(|d| !d.is_empty());"}),
        ),
        3 => (
            "Bash",
            json!({"command": "cargo test -p importer -- --nocapture 2>&1 | tail -40", "description": "Run the importer tests", "timeout": 120000}),
        ),
        _ => (
            "TodoWrite",
            json!({"todos": [
                {"content": "Find where empty dates are dropped", "status": "completed", "activeForm": "Finding where empty dates are dropped"},
                {"content": "Keep rows with empty dates", "status": "in_progress", "activeForm": "Keeping rows with empty dates"},
                {"content": "Add a regression test", "status": "pending", "activeForm": "Adding a regression test"}]}),
        ),
    };
    let mut out = vec![
        json!({"role": "assistant", "content": [
            {"type": "thinking", "thinking": prose(420, turn + 3), "signature": signature(turn)},
            {"type": "text", "text": format!("Let me look at step {turn} of the importer.")},
            {"type": "tool_use", "id": id, "name": name, "input": input}]}),
        json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": tool_output(turn)}]}),
    ];
    if turn % 4 == 3 {
        out.push(json!({"role": "user", "content": [{"type": "text", "text": "Also keep the CSV header handling as it is, please."}]}));
        out.push(json!({"role": "assistant", "content": [{"type": "text", "text": "Understood — I'll leave the header code alone."}]}));
    }
    out
}

/// What Read prints: numbered source lines (with Claude Code's arrow).
fn tool_output(turn: usize) -> String {
    (1..=40)
        .map(|line| {
            format!(
                "{line:>6}→\tlet row_{line} = parse(&fields[{}], \"{}\")?; // ünïcödé ✓\n",
                line % 7,
                turn
            )
        })
        .collect()
}

fn tool(name: &str) -> Value {
    json!({
        "name": name,
        "description": prose(520, name.len()),
        "input_schema": {
            "type": "object",
            "$schema": "http://json-schema.org/draft-07/schema#",
            "additionalProperties": false,
            "properties": {
                "file_path": {"type": "string", "description": "The absolute path to the file to modify"},
                "offset": {"type": "number", "description": "The line number to start reading from"},
                "limit": {"type": "integer", "minimum": 1, "exclusiveMaximum": 2000},
                "mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
                "edits": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": false,
                    "properties": {"old_string": {"type": "string"}, "new_string": {"type": "string"},
                                   "replace_all": {"type": "boolean", "default": false}},
                    "required": ["old_string", "new_string"]}}
            },
            "required": ["file_path"]
        }
    })
}

/// `len` bytes or so of English-like text.
fn prose(len: usize, seed: usize) -> String {
    const WORDS: [&str; 16] = [
        "the", "tool", "file", "when", "you", "must", "read", "before", "editing", "a", "user",
        "asks", "never", "commit", "unless", "told",
    ];
    let mut text = String::with_capacity(len + 16);
    let mut state = seed as u32 ^ 0x9e37_79b9;
    while text.len() < len {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        text.push_str(WORDS[(state >> 28) as usize]);
        text.push(if state & 0x1f == 0 { '\n' } else { ' ' });
    }
    text
}

fn signature(turn: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = (turn as u32).wrapping_add(17);
    (0..344)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ALPHABET[(state >> 26) as usize] as char
        })
        .collect()
}

/// A Messages client's request translated as the gateway does it (the head,
/// the hub request, the provider's body as bytes) against what forwarding
/// the same bytes costs: one validating pass and a copy.
pub fn requests(c: &mut Criterion) {
    let mut group = c.benchmark_group("claude_code");
    for tokens in [1_000, 10_000, 100_000] {
        let body = Bytes::from(request(tokens));
        eprintln!("claude_code {tokens} tokens: {} bytes", body.len());
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_function(format!("{}k/baseline_forward", tokens / 1000), |b| {
            b.iter(|| {
                let checked: Result<IgnoredAny, _> = serde_json::from_slice(black_box(&body));
                black_box(checked.is_ok());
                black_box(black_box(&body).to_vec())
            })
        });
        // The part of `to_*` every request pays, forwarded or translated.
        group.bench_function(format!("{}k/head_only", tokens / 1000), |b| {
            b.iter(|| {
                let request = ClientRequest {
                    path: "/v1/messages",
                    query: None,
                    body: &body,
                };
                black_box(MESSAGES.head(&request).map(|h| h.stream))
            })
        });
        let upstreams: [(&str, &dyn Translator, &str); 2] = [
            ("openai", &dialects::openai::OpenAiChat, "gpt-4.1"),
            ("gemini", &dialects::gemini::Gemini, "gemini-2.5-pro"),
        ];
        for (name, translator, model) in upstreams {
            group.bench_function(format!("{}k/to_{name}", tokens / 1000), |b| {
                b.iter(|| black_box(translate(&body, translator, model).len()))
            });
        }
    }
    group.finish();
}

/// What the gateway does with a Messages request for a provider of another
/// dialect, up to the bytes it sends.
pub fn translate(body: &Bytes, translator: &dyn Translator, model: &str) -> Vec<u8> {
    let request = ClientRequest {
        path: "/v1/messages",
        query: None,
        body,
    };
    let head = MESSAGES.head(&request).expect("head");
    let hub = MESSAGES.to_hub_shared(&request, body, &head).expect("hub");
    hub.request
        .translate(translator, model)
        .expect("translates")
        .body
}

//! Anthropic Messages requests shaped like a coding agent's turn, at a
//! chosen size: a long system prompt, many tools with JSON schemas, and a
//! history of text, `tool_use` and `tool_result` blocks (file contents with
//! quotes, escapes, tabs and some non-ASCII text). Deterministic: the same
//! size gives the same bytes, so runs compare.

use serde_json::{json, Value};

/// About four characters of JSON per token.
pub const CHARS_PER_TOKEN: usize = 4;

const WORDS: &[&str] = &[
    "the",
    "function",
    "returns",
    "a",
    "value",
    "when",
    "called",
    "with",
    "request",
    "body",
    "error",
    "stream",
    "token",
    "model",
    "provider",
    "key",
    "pool",
    "state",
    "config",
    "file",
    "path",
    "line",
    "test",
    "should",
    "must",
    "never",
    "always",
    "user",
    "assistant",
    "tool",
    "result",
    "input",
    "output",
    "cache",
    "read",
    "write",
    "async",
    "await",
    "match",
    "struct",
    "impl",
    "trait",
    "let",
    "mut",
    "self",
    "Some",
    "None",
    "Ok",
    "Err",
    "crate",
    "module",
    "données",
    "größe",
    "naïve",
    "café",
    "日本語",
    "→",
    "✓",
];

/// A Messages request for `model` of about `tokens` tokens, not streamed.
pub fn messages_request(model: &str, tokens: usize) -> Vec<u8> {
    let budget = tokens * CHARS_PER_TOKEN;
    let mut rng = fastrand::Rng::with_seed(7);
    let system = json!([
        {"type": "text", "text": "You are a coding agent working in the user's repository.", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": prose(&mut rng, budget / 10 / 7)},
    ]);
    let mut tools = Vec::new();
    let mut tools_len = 0;
    while tools.is_empty() || tools_len < budget / 4 {
        let tool = tool(&mut rng, tools.len());
        tools_len += tool.to_string().len();
        tools.push(tool);
    }
    let mut request = json!({
        "model": model,
        "max_tokens": 64,
        "system": system,
        "tools": tools,
        "messages": [],
        "metadata": {"user_id": "user_bench_account_bench_session_4f1c2b9e-0d55-4a1e-9b7e-2b6f0a3c8d11"},
        "stream": false,
    });
    let mut len = request.to_string().len();
    let mut turn = 0;
    let mut messages = Vec::new();
    loop {
        let user = if turn == 0 {
            json!({"role": "user", "content": prose(&mut rng, 40)})
        } else {
            json!({"role": "user", "content": [{
                "type": "tool_result",
                "tool_use_id": format!("toolu_{turn:020}"),
                "content": file_contents(&mut rng, 30),
            }]})
        };
        len += user.to_string().len() + 1;
        messages.push(user);
        if len >= budget {
            break;
        }
        turn += 1;
        let assistant = json!({"role": "assistant", "content": [
            {"type": "text", "text": prose(&mut rng, 25)},
            {"type": "tool_use", "id": format!("toolu_{turn:020}"), "name": format!("tool_{}", turn % tools.len()),
             "input": {"path": format!("src/module_{turn}/file.rs"), "pattern": "fn \\w+\\(", "limit": 200}},
        ]});
        len += assistant.to_string().len() + 1;
        messages.push(assistant);
    }
    request["messages"] = Value::Array(messages);
    serde_json::to_vec(&request).unwrap_or_default()
}

fn word(rng: &mut fastrand::Rng) -> &'static str {
    WORDS[rng.usize(..WORDS.len())]
}

/// About `words` words of text in sentences.
fn prose(rng: &mut fastrand::Rng, words: usize) -> String {
    let mut text = String::with_capacity(words * 7);
    for i in 0..words.max(1) {
        if i > 0 {
            text.push(if i % 12 == 0 { '\n' } else { ' ' });
        }
        text.push_str(word(rng));
        if i % 12 == 11 {
            text.push('.');
        }
    }
    text
}

/// `lines` lines of source code, as a file read by a tool.
fn file_contents(rng: &mut fastrand::Rng, lines: usize) -> String {
    let mut text = String::new();
    for n in 1..=lines {
        let indent = "    ".repeat(rng.usize(0..3));
        let line = match rng.u8(0..4) {
            0 => format!("{indent}let {} = \"{}\";", word(rng), word(rng)),
            1 => format!("{indent}// {} {} {}", word(rng), word(rng), word(rng)),
            2 => format!(
                "{indent}if {}.{}() {{ return Err(\"{}\\n\"); }}",
                word(rng),
                word(rng),
                word(rng)
            ),
            _ => format!("{indent}\t{}({}, {});", word(rng), word(rng), word(rng)),
        };
        text.push_str(&format!("{n:>6}\t{line}\n"));
    }
    text
}

/// A tool with a JSON schema of a few properties.
fn tool(rng: &mut fastrand::Rng, n: usize) -> Value {
    let mut properties = serde_json::Map::new();
    for p in 0..rng.usize(3..7) {
        let schema = match rng.u8(0..3) {
            0 => json!({"type": "string", "description": prose(rng, 12)}),
            1 => json!({"type": "integer", "description": prose(rng, 8), "minimum": 0}),
            _ => {
                json!({"type": "array", "items": {"type": "string"}, "description": prose(rng, 10)})
            }
        };
        properties.insert(format!("{}_{p}", word(rng).to_ascii_lowercase()), schema);
    }
    let required: Vec<_> = properties.keys().take(1).cloned().collect();
    json!({
        "name": format!("tool_{n}"),
        "description": prose(rng, 60),
        "input_schema": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    })
}

#[cfg(test)]
mod tests;

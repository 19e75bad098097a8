//! The requests each client front is benched on, as the client's bytes: a
//! Codex CLI turn (the 40 KB fixture), and a Chat and a Gemini CLI request
//! built here to the same scale (a long system prompt, a dozen tools, a
//! conversation of tool calls and results; the Chat one with images).

use serde_json::{json, Value};

use super::fixture;

/// Codex CLI's Responses request (`responses_request_codex.json`).
pub fn codex_responses_request() -> Vec<u8> {
    fixture("responses_request_codex.json")
}

/// A coding assistant's Chat Completions request: system prompt, eight
/// function tools, a screenshot as a base64 `data:` URL and one by http
/// URL, then parallel tool calls and their results.
pub fn chat_request_with_tools_and_images() -> Vec<u8> {
    let tools: Vec<Value> = (0..8)
        .map(|i| {
            json!({"type": "function", "function": {
                "name": format!("tool_{i}"), "description": "Reads or edits a file in the workspace. ".repeat(12),
                "parameters": file_schema()}})
        })
        .collect();
    let mut messages = vec![
        json!({"role": "system", "content": "You are a careful coding assistant. ".repeat(150)}),
        json!({"role": "user", "content": [
            {"type": "text", "text": "The layout breaks on this page; here is a screenshot and the design."},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{}", base64_like(12_000)), "detail": "high"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/design/landing-page.png"}}]}),
    ];
    for i in 0..8 {
        messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
            {"id": format!("call_{i}a"), "type": "function", "function": {"name": "tool_1", "arguments": "{\"file_path\": \"/src/app.css\"}"}},
            {"id": format!("call_{i}b"), "type": "function", "function": {"name": "tool_2", "arguments": "{\"file_path\": \"/src/page.html\", \"limit\": 200}"}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": format!("call_{i}a"), "content": ".card { display: flex; }\n".repeat(30)}));
        messages.push(json!({"role": "tool", "tool_call_id": format!("call_{i}b"), "content": [{"type": "text", "text": "<div class=\"card\"></div>\n".repeat(30)}]}));
        messages.push(json!({"role": "user", "content": "Keep going, the header still overlaps."}));
    }
    to_bytes(&json!({
        "model": "gpt-4.1", "messages": messages, "tools": tools, "tool_choice": "auto",
        "max_completion_tokens": 8192, "temperature": 0.2,
        "stream": true, "stream_options": {"include_usage": true}
    }))
}

/// Gemini CLI's `streamGenerateContent` request: system instruction, its
/// built-in tools declared with `parametersJsonSchema`, the opening
/// environment turn, and model turns calling tools (with thought
/// signatures, and call ids prefixed with the function's name) answered by
/// `functionResponse`s.
pub fn gemini_cli_request() -> Vec<u8> {
    let declarations: Vec<Value> = [
        "list_directory",
        "read_file",
        "search_file_content",
        "glob",
        "replace",
        "write_file",
        "web_fetch",
        "read_many_files",
        "run_shell_command",
        "save_memory",
        "google_web_search",
        "write_todos",
    ]
    .iter()
    .map(|name| {
        json!({"name": name, "description": "Works on files in the project directory. ".repeat(15),
            "parametersJsonSchema": file_schema()})
    })
    .collect();
    let mut contents = vec![
        json!({"role": "user", "parts": [{"text": format!(
            "This is the Gemini CLI. Today's date is Monday, 1 June 2026. My operating system is linux. I'm currently working in the directory: /home/dev/tidewater\nShowing up to 200 items:\n{}",
            "/home/dev/tidewater/src/module.rs\n".repeat(120))}]}),
        json!({"role": "model", "parts": [{"text": "Got it. Thanks for the context!"}]}),
        json!({"role": "user", "parts": [{"text": "Find why the importer drops rows with empty dates and fix it."}]}),
    ];
    for i in 0..8 {
        let id = format!("read_file__toolu_bench{i:02}");
        contents.push(json!({"role": "model", "parts": [
            {"text": "I'll read the importer first."},
            {"functionCall": {"id": id, "name": "read_file", "args": {"absolute_path": format!("/home/dev/tidewater/src/import_{i}.rs")}},
             "thoughtSignature": base64_like(400)}]}));
        contents.push(json!({"role": "user", "parts": [
            {"functionResponse": {"id": id, "name": "read_file", "response": {"output": "    let row = parse(line)?;\n".repeat(50)}}}]}));
    }
    to_bytes(&json!({
        "contents": contents,
        "systemInstruction": {"role": "user", "parts": [{"text": "You are an interactive CLI agent for software engineering tasks. ".repeat(150)}]},
        "tools": [{"functionDeclarations": declarations}],
        "generationConfig": {"temperature": 0, "topP": 1,
            "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 8192}}
    }))
}

fn file_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "file_path": {"type": "string", "description": "The absolute path to the file"},
            "offset": {"type": "number"}, "limit": {"type": "number"},
            "edits": {"type": "array", "items": {"type": "object", "properties": {"old": {"type": "string"}, "new": {"type": "string"}}}}
        },
        "required": ["file_path"]
    })
}

/// `len` characters of the base64 alphabet in a fixed pseudo-random order:
/// image data and signatures, which translators copy and never decode.
fn base64_like(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ALPHABET[(state >> 26) as usize] as char
        })
        .collect()
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("json")
}

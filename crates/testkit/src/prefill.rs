//! A fake that continues a prefilled turn exactly, as Anthropic, Gemini,
//! Ollama and OpenRouter do: it reads the start of the assistant's answer
//! the request carries and answers with the rest of a known text.

use crate::recorded::Recorded;

/// The assistant's answer a request already begins (its prefill): the last
/// `assistant` message (Anthropic Messages, Chat Completions, Ollama) or
/// the last `model` turn (Gemini), as text; empty when the last turn is the
/// user's.
pub fn prefill_of(request: &Recorded) -> String {
    let Ok(body) = request.json() else {
        return String::new();
    };
    let (list, role) = match body.get("contents") {
        Some(contents) => (contents, "model"),
        None => (&body["messages"], "assistant"),
    };
    let Some(last) = list.as_array().and_then(|l| l.last()) else {
        return String::new();
    };
    if last["role"] != role {
        return String::new();
    }
    let parts = last.get("parts").or_else(|| last.get("content"));
    match parts {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Array(parts)) => {
            parts.iter().filter_map(|p| p["text"].as_str()).collect()
        }
        _ => String::new(),
    }
}

/// The rest of `full` after the prefill `request` carries. Panics when
/// `full` does not start with it: the gateway sent a wrong prefill.
pub fn rest_of<'a>(full: &'a str, request: &Recorded) -> &'a str {
    let prefill = prefill_of(request);
    full.strip_prefix(prefill.as_str())
        .unwrap_or_else(|| panic!("the request's prefill {prefill:?} is not the start of {full:?}"))
}

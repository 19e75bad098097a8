//! A Messages request as a Chat Completions request body.
//!
//! Model-dependent choices look at the model name without its provider
//! prefix (`openai/gpt-5` on OpenRouter counts as `gpt-5`):
//! - o-series (`o1`, `o3`, `o4-mini`…) and `gpt-5*` take `max_completion_tokens`
//!   and reject sampling knobs, so they get no `temperature`/`top_p`; every
//!   other model gets `max_tokens` (what local servers and older proxies read).
//! - `reasoning_effort` comes from `output_config.effort` if present, else
//!   from `thinking.budget_tokens`: below 8 000 → `low`, below 24 000 →
//!   `medium`, else `high` (Claude Code's "think" ≈ 4 000, "think hard"
//!   ≈ 10 000, "ultrathink" ≈ 32 000). It is not sent to OpenAI's
//!   non-reasoning families (`gpt-4*`, `gpt-3.5*`, `chatgpt-*`), which answer 400.
//! - `top_k` is not sent: OpenAI rejects it. `metadata.user_id` is not sent as
//!   `user`: Claude Code's id is long and not useful to the provider.

use serde_json::Value;
#[cfg(test)]
use serde_json::{json, Map};

#[cfg(test)]
use super::messages::messages;
#[cfg(test)]
use crate::anthropic::ToolChoice;
use crate::anthropic::{MessagesRequest, Thinking};

/// Budgets below this map to `low` reasoning effort.
const LOW_EFFORT_BELOW: u32 = 8_000;
/// Budgets below this (and not below [`LOW_EFFORT_BELOW`]) map to `medium`.
const MEDIUM_EFFORT_BELOW: u32 = 24_000;

/// The Chat Completions body for `request`, sent to `model`.
#[cfg(test)]
pub(super) fn body(request: &MessagesRequest, model: &str) -> Value {
    let family = ModelFamily::of(model);
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages(request)));
    if let Some(max_tokens) = request.max_tokens {
        let key = if family.is_reasoning() {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body.insert(key.into(), json!(max_tokens));
    }
    if !family.is_reasoning() {
        if let Some(temperature) = request.temperature {
            body.insert("temperature".into(), json!(temperature));
        }
        if let Some(top_p) = request.top_p {
            body.insert("top_p".into(), json!(top_p));
        }
    }
    if let Some(stop) = request.stop_sequences.as_ref().filter(|s| !s.is_empty()) {
        body.insert("stop".into(), json!(stop));
    }
    add_tools(request, &mut body);
    if family != ModelFamily::OpenAiNonReasoning {
        if let Some(effort) = reasoning_effort(request) {
            body.insert("reasoning_effort".into(), json!(effort));
        }
    }
    if request.is_stream() {
        body.insert("stream".into(), json!(true));
        // Without this OpenAI sends no usage at all in a stream.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(body)
}

#[cfg(test)]
fn add_tools(request: &MessagesRequest, body: &mut Map<String, Value>) {
    // Server tools (web search…) have no input schema and no OpenAI equivalent.
    let tools: Vec<Value> = request
        .tools
        .iter()
        .flatten()
        .filter_map(|tool| {
            let parameters = tool.input_schema.as_ref()?;
            let mut function = json!({"name": tool.name, "parameters": parameters});
            if let Some(description) = tool.description.as_ref().filter(|d| !d.is_empty()) {
                function["description"] = json!(description);
            }
            Some(json!({"type": "function", "function": function}))
        })
        .collect();
    if tools.is_empty() {
        // `tool_choice` without `tools` is a 400 at OpenAI.
        return;
    }
    body.insert("tools".into(), Value::Array(tools));
    let Some(choice) = &request.tool_choice else {
        return;
    };
    let (value, disable_parallel) = match choice {
        ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (json!("auto"), *disable_parallel_tool_use),
        ToolChoice::Any {
            disable_parallel_tool_use,
        } => (json!("required"), *disable_parallel_tool_use),
        ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            json!({"type": "function", "function": {"name": name}}),
            *disable_parallel_tool_use,
        ),
        ToolChoice::None => (json!("none"), None),
    };
    body.insert("tool_choice".into(), value);
    if disable_parallel == Some(true) {
        body.insert("parallel_tool_calls".into(), json!(false));
    }
}

/// `low` / `medium` / `high`, or `None` when thinking is off or adaptive
/// without an explicit effort.
pub(super) fn reasoning_effort(request: &MessagesRequest) -> Option<&'static str> {
    let effort = request
        .output_config
        .as_ref()
        .and_then(|c| c.get("effort"))
        .and_then(Value::as_str);
    if let Some(effort) = effort {
        return match effort {
            "low" => Some("low"),
            "medium" => Some("medium"),
            // OpenAI's top level is `high` on every reasoning model; `xhigh`/`max` are not universal.
            "high" | "xhigh" | "max" => Some("high"),
            _ => None,
        };
    }
    match request.thinking.as_ref()? {
        Thinking::Enabled { budget_tokens } if *budget_tokens < LOW_EFFORT_BELOW => Some("low"),
        Thinking::Enabled { budget_tokens } if *budget_tokens < MEDIUM_EFFORT_BELOW => {
            Some("medium")
        }
        Thinking::Enabled { .. } => Some("high"),
        Thinking::Disabled | Thinking::Other(_) => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModelFamily {
    /// o-series and gpt-5: `max_completion_tokens`, no sampling knobs.
    OpenAiReasoning,
    /// gpt-4*, gpt-3.5*, chatgpt-*: reject `reasoning_effort`.
    OpenAiNonReasoning,
    Other,
}

impl ModelFamily {
    pub(super) fn of(model: &str) -> Self {
        let name = model
            .rsplit('/')
            .next()
            .unwrap_or(model)
            .to_ascii_lowercase();
        let bytes = name.as_bytes();
        let o_series = bytes.first() == Some(&b'o') && bytes.get(1).is_some_and(u8::is_ascii_digit);
        if o_series || name.starts_with("gpt-5") {
            ModelFamily::OpenAiReasoning
        } else if name.starts_with("gpt-4")
            || name.starts_with("gpt-3.5")
            || name.starts_with("chatgpt-")
        {
            ModelFamily::OpenAiNonReasoning
        } else {
            ModelFamily::Other
        }
    }

    pub(super) fn is_reasoning(self) -> bool {
        self == ModelFamily::OpenAiReasoning
    }
}

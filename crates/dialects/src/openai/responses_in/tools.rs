//! Responses `tools` and `tool_choice` as the hub's, and the way back: which
//! hub tool names are a client's namespaced function or custom tool.
//!
//! - `function` tools become hub tools (`strict` dropped).
//! - `custom` (freeform) tools become a function taking one `input` string,
//!   their grammar quoted in the description; a call comes back as a
//!   `custom_tool_call` with that string.
//! - The functions (and custom tools) of a `namespace` tool become
//!   `NAMESPACE__NAME`; a call comes back with its `namespace` and own name.
//! - Hosted tools (`web_search`, `file_search`, `code_interpreter`,
//!   `local_shell`, `mcp`, `image_generation`, computer use…) run on
//!   OpenAI's side only: dropped, each noted.

use serde_json::{json, Value};

use crate::anthropic::{Tool, ToolChoice};
use crate::translate::TranslateError;

/// A client tool whose hub name differs from what the client calls it, or
/// whose calls are not function calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTool {
    /// The name the hub and the provider use.
    pub hub_name: String,
    /// The tool's own name.
    pub name: String,
    pub namespace: Option<String>,
    /// A custom (freeform) tool: called with one string, not JSON arguments.
    pub custom: bool,
}

/// The request's tools that need more than their name to read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientTools {
    tools: Vec<ClientTool>,
}

impl ClientTools {
    /// How a call to `hub_name` reads for the client; `None`: a plain function.
    pub fn get(&self, hub_name: &str) -> Option<&ClientTool> {
        self.tools.iter().find(|t| t.hub_name == hub_name)
    }
}

/// The hub name of a client's tool (`NAMESPACE__NAME` inside a namespace).
pub(super) fn hub_name(namespace: Option<&str>, name: &str) -> String {
    match namespace.filter(|ns| !ns.is_empty()) {
        Some(namespace) => format!("{namespace}__{name}"),
        None => name.to_owned(),
    }
}

/// The hub's tools and tool choice for a request.
pub(super) struct HubTools {
    pub tools: Option<Vec<Tool>>,
    pub tool_choice: Option<ToolChoice>,
    pub client: ClientTools,
    pub dropped: Vec<String>,
}

pub(super) fn hub_tools(
    tools: Option<&[Value]>,
    choice: Option<&Value>,
    parallel_tool_calls: Option<bool>,
) -> Result<HubTools, TranslateError> {
    let mut out = HubTools {
        tools: None,
        tool_choice: None,
        client: ClientTools::default(),
        dropped: Vec::new(),
    };
    let mut hub = Vec::new();
    for (n, tool) in tools.unwrap_or_default().iter().enumerate() {
        let at = |what: String| TranslateError(format!("tools[{n}]: {what}"));
        match kind(tool) {
            "function" | "custom" => hub.push(one_tool(tool, None, &mut out.client).map_err(at)?),
            "namespace" => {
                let namespace = name_of(tool).map_err(at)?;
                for (m, inner) in tool["tools"].as_array().into_iter().flatten().enumerate() {
                    match kind(inner) {
                        "function" | "custom" => hub.push(
                            one_tool(inner, Some(namespace), &mut out.client)
                                .map_err(|e| at(format!("tools[{m}]: {e}")))?,
                        ),
                        other => out
                            .dropped
                            .push(format!("tools[{n}].tools[{m}]: a {other:?} tool")),
                    }
                }
            }
            other => out.dropped.push(format!(
                "tools[{n}]: the hosted {other:?} tool, which only OpenAI runs"
            )),
        }
    }
    let disable = (parallel_tool_calls == Some(false)).then_some(true);
    let choice = tool_choice(choice, &mut hub, disable, &mut out.dropped)?;
    if !hub.is_empty() {
        out.tools = Some(hub);
        out.tool_choice = choice;
    }
    Ok(out)
}

/// One function or custom tool, perhaps inside a namespace.
fn one_tool(
    tool: &Value,
    namespace: Option<&str>,
    client: &mut ClientTools,
) -> Result<Tool, String> {
    let name = name_of(tool)?;
    let hub = hub_name(namespace, name);
    let custom = kind(tool) == "custom";
    if custom || namespace.is_some() {
        client.tools.push(ClientTool {
            hub_name: hub.clone(),
            name: name.to_owned(),
            namespace: namespace.map(str::to_owned),
            custom,
        });
    }
    let description = tool["description"].as_str().map(str::to_owned);
    if custom {
        return Ok(Tool {
            name: hub,
            description: Some(custom_description(description, &tool["format"])),
            input_schema: Some(json!({
                "type": "object",
                "properties": {"input": {"type": "string", "description": "The tool's whole input, as free text"}},
                "required": ["input"],
            })),
            kind: None,
        });
    }
    let schema = match &tool["parameters"] {
        Value::Null => json!({"type": "object", "properties": {}}),
        schema => schema.clone(),
    };
    Ok(Tool {
        name: hub,
        description,
        input_schema: Some(schema),
        kind: None,
    })
}

/// A custom tool's description, with the grammar its input must follow.
fn custom_description(description: Option<String>, format: &Value) -> String {
    let mut text = description.unwrap_or_default();
    if format["type"] == "grammar" {
        let syntax = format["syntax"].as_str().unwrap_or("formal");
        let definition = format["definition"].as_str().unwrap_or_default();
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!(
            "Put the whole input in `input` as plain text (not JSON); it must follow this {syntax} grammar:\n{definition}"
        ));
    }
    text
}

fn tool_choice(
    choice: Option<&Value>,
    hub: &mut Vec<Tool>,
    disable: Option<bool>,
    dropped: &mut Vec<String>,
) -> Result<Option<ToolChoice>, TranslateError> {
    let auto = ToolChoice::Auto {
        disable_parallel_tool_use: disable,
    };
    let mode = match choice {
        None | Some(Value::Null) => return Ok(disable.map(|_| auto)),
        Some(Value::String(mode)) => mode.as_str(),
        Some(choice) => match kind(choice) {
            "function" | "custom" => {
                let name =
                    name_of(choice).map_err(|e| TranslateError(format!("tool_choice: {e}")))?;
                let name = hub_name(choice["namespace"].as_str(), name);
                if !hub.iter().any(|t| t.name == name) {
                    dropped.push(format!("tool_choice: {name:?} is not among the tools"));
                    return Ok(Some(auto));
                }
                return Ok(Some(ToolChoice::Tool {
                    name,
                    disable_parallel_tool_use: disable,
                }));
            }
            "allowed_tools" => {
                let allowed: Vec<String> = choice["tools"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| Some(hub_name(t["namespace"].as_str(), t["name"].as_str()?)))
                    .collect();
                hub.retain(|t| allowed.contains(&t.name));
                choice["mode"].as_str().unwrap_or("auto")
            }
            other => {
                dropped.push(format!("tool_choice: the hosted {other:?} tool"));
                return Ok(Some(auto));
            }
        },
    };
    match mode {
        "none" => Ok(Some(ToolChoice::None)),
        "auto" => Ok(Some(auto)),
        "required" => Ok(Some(ToolChoice::Any {
            disable_parallel_tool_use: disable,
        })),
        other => Err(TranslateError(format!(
            "tool_choice: unknown value {other:?}"
        ))),
    }
}

fn kind(value: &Value) -> &str {
    value["type"].as_str().unwrap_or("")
}

fn name_of(tool: &Value) -> Result<&str, String> {
    tool["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| String::from("a name is required"))
}

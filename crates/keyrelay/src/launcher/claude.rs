//! How Claude Code is launched: its model slots and its environment.

use super::LaunchPlan;

/// Claude's model slots, each mapped to keyrelay's chosen model.
#[derive(Debug, Clone)]
pub struct ModelSlots {
    pub main: String,
    pub opus: String,
    pub sonnet: String,
    pub haiku: String,
    pub subagent: String,
}

impl ModelSlots {
    /// `--model`, with `--opus`, `--sonnet`, `--haiku` and `--subagent` where given.
    pub fn from_plan(plan: &LaunchPlan) -> ModelSlots {
        let or_main = |slot: &Option<String>| slot.clone().unwrap_or_else(|| plan.model.clone());
        ModelSlots {
            main: plan.model.clone(),
            opus: or_main(&plan.slots.opus),
            sonnet: or_main(&plan.slots.sonnet),
            haiku: or_main(&plan.slots.haiku),
            subagent: or_main(&plan.slots.subagent),
        }
    }

    pub fn all(&self) -> [&String; 5] {
        [
            &self.main,
            &self.opus,
            &self.sonnet,
            &self.haiku,
            &self.subagent,
        ]
    }
}

/// Variables removed from Claude Code's environment: its own credentials
/// (keyrelay's per-run token replaces them) and settings that would send it
/// elsewhere.
pub const REMOVED: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
];

/// Variables set for Claude Code: the gateway's URL, the per-run token (sent
/// as `Authorization: Bearer`, which Claude Code accepts without the
/// interactive "use this API key?" prompt), and every model slot.
pub fn claude_env(base_url: &str, token: &str, slots: &ModelSlots) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_BASE_URL", base_url.to_owned()),
        ("ANTHROPIC_AUTH_TOKEN", token.to_owned()),
        ("ANTHROPIC_MODEL", slots.main.clone()),
        ("ANTHROPIC_DEFAULT_OPUS_MODEL", slots.opus.clone()),
        ("ANTHROPIC_DEFAULT_SONNET_MODEL", slots.sonnet.clone()),
        ("ANTHROPIC_DEFAULT_HAIKU_MODEL", slots.haiku.clone()),
        // The older name of the haiku slot, still read by some versions.
        ("ANTHROPIC_SMALL_FAST_MODEL", slots.haiku.clone()),
        ("CLAUDE_CODE_SUBAGENT_MODEL", slots.subagent.clone()),
    ]
}

//! The coding agents keyrelay launches, and what tells them apart before launch.

/// A CLI `keyrelay` can launch against its in-process gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// Anthropic's Claude Code (`claude`), on `/v1/messages`.
    Claude,
    /// OpenAI's Codex CLI (`codex`), on `/v1/responses`.
    Codex,
    /// Google's Gemini CLI (`gemini`), on Gemini's native `/v1beta/models/…`.
    Gemini,
}

impl Client {
    /// The `keyrelay` subcommand and the executable's name on `PATH`.
    pub fn command(self) -> &'static str {
        match self {
            Client::Claude => "claude",
            Client::Codex => "codex",
            Client::Gemini => "gemini",
        }
    }

    /// The name people know it by.
    pub fn product(self) -> &'static str {
        match self {
            Client::Claude => "Claude Code",
            Client::Codex => "Codex CLI",
            Client::Gemini => "Gemini CLI",
        }
    }

    /// The npm package that installs it.
    pub fn npm_package(self) -> &'static str {
        match self {
            Client::Claude => "@anthropic-ai/claude-code",
            Client::Codex => "@openai/codex",
            Client::Gemini => "@google/gemini-cli",
        }
    }

    /// The flag that names the executable (`--claude-bin`).
    pub fn bin_flag(self) -> &'static str {
        match self {
            Client::Claude => "--claude-bin",
            Client::Codex => "--codex-bin",
            Client::Gemini => "--gemini-bin",
        }
    }

    /// The variable that names the executable (`KEYRELAY_CLAUDE_BIN`).
    pub fn bin_env(self) -> &'static str {
        match self {
            Client::Claude => "KEYRELAY_CLAUDE_BIN",
            Client::Codex => "KEYRELAY_CODEX_BIN",
            Client::Gemini => "KEYRELAY_GEMINI_BIN",
        }
    }

    /// Models the client names by itself (quick background calls, helper
    /// prompts): the run sends them to the chosen model too.
    pub fn own_models(self) -> &'static str {
        match self {
            Client::Claude => "claude-*",
            Client::Codex => "gpt-*",
            Client::Gemini => "gemini-*",
        }
    }
}

impl std::fmt::Display for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.product())
    }
}

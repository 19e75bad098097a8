//! The command line's shape: commands, flags and their help.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::team_args::{SpendArgs, VkeysArgs};
use crate::route::{Aliases, Fallbacks};

/// What `keyrelay --version` prints after the name: the version and the
/// commit the binary was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KEYRELAY_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "keyrelay",
    version = VERSION,
    about = "An LLM gateway that spreads requests over several API keys per provider and fails over between them",
    long_about = "An LLM gateway that spreads requests over several API keys per provider and fails over between them.\n\nTwo jobs, one binary: `keyrelay claude|codex|gemini --model PROVIDER@MODEL` runs a coding agent through a gateway made for the run, and `keyrelay serve` runs a gateway for several clients or a team. Keys come from each provider's PROVIDER_API_KEY(S) variables and the config file; `keyrelay providers` lists them.",
    after_help = "Examples:\n  GEMINI_API_KEYS=key1,key2 keyrelay serve --listen 127.0.0.1:8080\n  keyrelay serve --model-alias 'claude-*=anthropic@claude-sonnet-4-5'"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway as a service.
    #[command(
        after_help = "Examples:\n  ANTHROPIC_API_KEYS=k1,k2 keyrelay serve\n  keyrelay serve --listen 127.0.0.1:9000 --config keyrelay.toml\n  keyrelay serve --model-alias 'claude-*=gemini@gemini-2.5-flash'\n  keyrelay serve --fallback 'gemini@*=openai@gpt-4.1,anthropic@claude-sonnet-4-5'\n\nKeys come from PROVIDER_API_KEY(S) variables (comma, semicolon, newline or space separated)\nand from the config file. Base URLs: OPENAI_BASE_URL, GEMINI_BASE_URL, ANTHROPIC_UPSTREAM_BASE_URL, ..."
    )]
    Serve(ServeArgs),
    /// Run Claude Code through keyrelay with any provider's model.
    #[command(
        after_help = "Examples:\n  keyrelay claude --model gemini@gemini-2.5-flash\n  keyrelay claude --model openai@gpt-4.1 -- -p \"fix the failing test\" --output-format json\n  keyrelay claude --model or/qwen/qwen3-coder --haiku gemini@gemini-2.5-flash-lite\n  keyrelay claude --model gemini@gemini-2.5-pro --fallback 'gemini@*=openai@gpt-4.1'\n\nEvery Claude model slot (main, opus, sonnet, haiku, subagent) is mapped to --model\nunless overridden. Arguments after `--` go to Claude Code unchanged."
    )]
    Claude(ClaudeArgs),
    /// Run OpenAI's Codex CLI through keyrelay with any provider's model.
    #[command(
        after_help = "Examples:\n  keyrelay codex --model anthropic@claude-sonnet-4-5\n  keyrelay codex --model gemini@gemini-2.5-pro -- exec --full-auto \"fix the failing test\"\n  keyrelay codex --model or/qwen/qwen3-coder -v\n\nCodex gets a `keyrelay` model provider on /v1/responses through `-c` overrides (your\n~/.codex/config.toml is not touched), with update checks, analytics and telemetry off.\nArguments after `--` go to Codex CLI unchanged."
    )]
    Codex(CodexArgs),
    /// Run Google's Gemini CLI through keyrelay with any provider's model.
    #[command(
        after_help = "Examples:\n  keyrelay gemini --model anthropic@claude-sonnet-4-5\n  keyrelay gemini --model openai@gpt-4.1 -- -p \"fix the failing test\" --yolo\n  keyrelay gemini --model gemini@gemini-2.5-pro -v\n\nGemini CLI uses API-key auth against keyrelay's Gemini API (no Google sign-in), with\nupdate checks, usage statistics and telemetry off for the run (your ~/.gemini is not\ntouched). Arguments after `--` go to Gemini CLI unchanged."
    )]
    Gemini(GeminiArgs),
    /// Show the state of every key, or check keys against their providers.
    #[command(
        after_help = "Examples:\n  keyrelay keys\n  keyrelay keys --json\n  keyrelay keys check\n  keyrelay keys check gemini"
    )]
    Keys(KeysArgs),
    /// Make, list, change, disable and delete virtual keys (kr-…) for people and apps.
    #[command(
        after_help = "Examples:\n  keyrelay vkeys create alice --team research --budget-day 5\n  keyrelay vkeys list\n  keyrelay vkeys disable alice"
    )]
    Vkeys(VkeysArgs),
    /// Spend by virtual key, team, model, provider or provider key.
    #[command(
        after_help = "Examples:\n  keyrelay spend\n  keyrelay spend --by team --from 2025-06-01 --to 2025-06-30\n  keyrelay spend --by model --csv > spend.csv"
    )]
    Spend(SpendArgs),
    /// List built-in and configured providers, their key variables and key counts.
    #[command(after_help = "Examples:\n  keyrelay providers\n  keyrelay providers --json")]
    Providers(CommonArgs),
    /// Validate configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Write a commented sample config file.
    #[command(
        after_help = "Examples:\n  keyrelay init\n  keyrelay init --path ~/.config/keyrelay.toml"
    )]
    Init(InitArgs),
    /// Ask a running gateway whether it is up (exit status 0 when it is).
    #[command(
        after_help = "Examples:\n  keyrelay health\n  keyrelay health --url http://127.0.0.1:9000/health\n\nMeant for container health checks: the image has no shell or curl. Without --url it asks\nthe address of KEYRELAY_LISTEN (0.0.0.0 and :: become loopback), else 127.0.0.1:8080."
    )]
    Health(HealthArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  keyrelay completions bash > ~/.local/share/bash-completion/completions/keyrelay\n  keyrelay completions zsh > ~/.zfunc/_keyrelay\n  keyrelay completions fish > ~/.config/fish/completions/keyrelay.fish\n  keyrelay completions powershell >> $PROFILE"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a folder.
    #[command(
        after_help = "Examples:\n  keyrelay man | man -l -\n  keyrelay man --dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The gateway's health URL (plain http).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub timeout: u64,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write keyrelay.1 and a page per command (keyrelay-serve.1, …) here
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// TOML config file.
    #[arg(long, env = "KEYRELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Key state store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite under $XDG_STATE_HOME).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
}

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: Option<KeysCommand>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Validate every key (or one provider's) with a cheap unbilled call; results update key state.
    #[command(
        after_help = "Examples:\n  keyrelay keys check\n  keyrelay keys check openai --json\n\nExit status: 0 when every key is valid, 2 otherwise."
    )]
    Check {
        /// Only this provider.
        provider: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file and show where each value came from.
    #[command(
        after_help = "Examples:\n  keyrelay config check --config keyrelay.toml\n  keyrelay config check --json"
    )]
    Check(CommonArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write it.
    #[arg(long, default_value = "keyrelay.toml")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Flags every launcher (`claude`, `codex`, `gemini`) shares.
#[derive(Debug, clap::Args)]
pub struct LaunchArgs {
    /// The model the client uses, as PROVIDER@MODEL (or a prefix like g/, oai/, or/).
    #[arg(long, short = 'm', env = "KEYRELAY_MODEL")]
    pub model: String,
    /// TOML config file.
    #[arg(long, env = "KEYRELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Route models matching a glob elsewhere: PATTERN=TARGET (repeatable).
    #[arg(long = "model-alias", value_name = "PATTERN=TARGET", value_parser = Aliases::parse_rule)]
    pub model_alias: Vec<(String, String)>,
    /// When the provider a request was routed to cannot serve it (every key
    /// cooling, disabled or failed; the provider down), try these targets in
    /// order: PATTERN=TARGET[,TARGET...], PATTERN a glob on PROVIDER@MODEL
    /// (repeatable; before the config file's [fallbacks]).
    #[arg(long = "fallback", value_name = "PATTERN=TARGET[,TARGET...]", value_parser = Fallbacks::parse_rule)]
    pub fallback: Vec<(String, Vec<String>)>,
    /// Key state store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite under $XDG_STATE_HOME).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
    /// Write the gateway's logs (debug level) to a file and print its path
    /// and the dashboard's address.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct ClaudeArgs {
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// Model for Claude Code's opus slot (default: --model).
    #[arg(long)]
    pub opus: Option<String>,
    /// Model for the sonnet slot (default: --model).
    #[arg(long)]
    pub sonnet: Option<String>,
    /// Model for the haiku slot, used for quick background calls (default: --model).
    #[arg(long)]
    pub haiku: Option<String>,
    /// Model for subagents (default: --model).
    #[arg(long)]
    pub subagent: Option<String>,
    /// The Claude Code executable (default: KEYRELAY_CLAUDE_BIN, then `claude` on PATH).
    #[arg(long)]
    pub claude_bin: Option<PathBuf>,
    /// Arguments for Claude Code, after `--`.
    #[arg(last = true, value_name = "CLAUDE ARGS")]
    pub claude_args: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CodexArgs {
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// The Codex CLI executable (default: KEYRELAY_CODEX_BIN, then `codex` on PATH).
    #[arg(long)]
    pub codex_bin: Option<PathBuf>,
    /// Arguments for Codex CLI, after `--` (e.g. `exec --full-auto "…"`).
    #[arg(last = true, value_name = "CODEX ARGS")]
    pub codex_args: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct GeminiArgs {
    #[command(flatten)]
    pub launch: LaunchArgs,
    /// The Gemini CLI executable (default: KEYRELAY_GEMINI_BIN, then `gemini` on PATH).
    #[arg(long)]
    pub gemini_bin: Option<PathBuf>,
    /// Arguments for Gemini CLI, after `--` (e.g. `-p "…"`).
    #[arg(last = true, value_name = "GEMINI ARGS")]
    pub gemini_args: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080, or server.listen from the config file).
    #[arg(long, env = "KEYRELAY_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// TOML config file.
    #[arg(long, env = "KEYRELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Route models matching a glob elsewhere: PATTERN=TARGET (repeatable).
    #[arg(long = "model-alias", value_name = "PATTERN=TARGET", value_parser = Aliases::parse_rule)]
    pub model_alias: Vec<(String, String)>,
    /// When the provider a request was routed to cannot serve it (every key
    /// cooling, disabled or failed; the provider down), try these targets in
    /// order: PATTERN=TARGET[,TARGET...], PATTERN a glob on PROVIDER@MODEL
    /// (repeatable; before the config file's [fallbacks]).
    #[arg(long = "fallback", value_name = "PATTERN=TARGET[,TARGET...]", value_parser = Fallbacks::parse_rule)]
    pub fallback: Vec<(String, Vec<String>)>,
    /// Log filter (error, warn, info, debug, or a tracing filter).
    #[arg(long, env = "KEYRELAY_LOG", default_value = "info")]
    pub log: String,
    /// Log lines as text or as JSON objects (one per line, for log shippers).
    #[arg(long, env = "KEYRELAY_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Key state store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite at
    /// $XDG_STATE_HOME/keyrelay/state.db or ~/.local/state/keyrelay/state.db).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
    /// Where keys added or removed through the admin API are kept (TOML in
    /// the config's [providers.NAME] shape, mode 0600); over server.keys_file.
    #[arg(long, env = "KEYRELAY_KEYS_FILE", value_name = "PATH")]
    pub keys_file: Option<PathBuf>,
    /// Threads serving requests (default: one per core). With 1, a single
    /// thread runs everything and spends the least CPU per request.
    #[arg(long, env = "KEYRELAY_WORKERS", value_name = "N")]
    pub workers: Option<std::num::NonZeroUsize>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

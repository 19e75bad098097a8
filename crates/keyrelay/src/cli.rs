//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::env::ProcessEnv;
use crate::launcher::LaunchPlan;
use crate::route::Aliases;
use crate::server::{build_gateway, check_listen, serve, ServeSettings};

#[derive(Debug, Parser)]
#[command(
    name = "keyrelay",
    version,
    about = "An LLM gateway that spreads requests over several API keys per provider and fails over between them",
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
        after_help = "Examples:\n  ANTHROPIC_API_KEYS=k1,k2 keyrelay serve\n  keyrelay serve --listen 127.0.0.1:9000 --config keyrelay.toml\n  keyrelay serve --model-alias 'claude-*=gemini@gemini-2.5-flash'\n\nKeys come from PROVIDER_API_KEY(S) variables (comma, semicolon, newline or space separated)\nand from the config file. Base URLs: OPENAI_BASE_URL, GEMINI_BASE_URL, ANTHROPIC_UPSTREAM_BASE_URL, ..."
    )]
    Serve(ServeArgs),
    /// Run Claude Code through keyrelay with any provider's model.
    #[command(
        after_help = "Examples:\n  keyrelay claude --model gemini@gemini-2.5-flash\n  keyrelay claude --model openai@gpt-4.1 -- -p \"fix the failing test\" --output-format json\n  keyrelay claude --model or/qwen/qwen3-coder --haiku gemini@gemini-2.5-flash-lite\n\nEvery Claude model slot (main, opus, sonnet, haiku, subagent) is mapped to --model\nunless overridden. Arguments after `--` go to Claude Code unchanged."
    )]
    Claude(ClaudeArgs),
    /// Show the state of every key, or check keys against their providers.
    #[command(
        after_help = "Examples:\n  keyrelay keys\n  keyrelay keys --json\n  keyrelay keys check\n  keyrelay keys check gemini"
    )]
    Keys(KeysArgs),
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

#[derive(Debug, clap::Args)]
pub struct ClaudeArgs {
    /// The model Claude Code uses, as PROVIDER@MODEL (or a prefix like g/, oai/, or/).
    #[arg(long, short = 'm', env = "KEYRELAY_MODEL")]
    pub model: String,
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
    /// TOML config file.
    #[arg(long, env = "KEYRELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Route models matching a glob elsewhere: PATTERN=TARGET (repeatable).
    #[arg(long = "model-alias", value_name = "PATTERN=TARGET", value_parser = Aliases::parse_rule)]
    pub model_alias: Vec<(String, String)>,
    /// Key state store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite under $XDG_STATE_HOME).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
    /// Write the gateway's logs (debug level) to a file; its path is printed.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Arguments for Claude Code, after `--`.
    #[arg(last = true, value_name = "CLAUDE ARGS")]
    pub claude_args: Vec<String>,
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
    /// Log filter (error, warn, info, debug, or a tracing filter).
    #[arg(long, env = "KEYRELAY_LOG", default_value = "info")]
    pub log: String,
    /// Key state store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite at
    /// $XDG_STATE_HOME/keyrelay/state.db or ~/.local/state/keyrelay/state.db).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("keyrelay: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => run_serve(args).await.map(|()| 0),
            Command::Claude(args) => run_claude(args).await,
            Command::Keys(args) => run_keys(args).await,
            Command::Providers(args) => {
                let (_, _, registry) = open_registry(&args)?;
                print!(
                    "{}",
                    crate::commands::providers::list(&registry, &ProcessEnv, args.json)
                );
                Ok(0)
            }
            Command::Config(ConfigCommand::Check(args)) => {
                print!(
                    "{}",
                    crate::commands::config_cmd::check(
                        args.config.as_deref(),
                        &ProcessEnv,
                        args.json
                    )?
                );
                Ok(0)
            }
            Command::Init(args) => {
                let message = crate::commands::config_cmd::init(&args.path, args.force)
                    .map_err(anyhow::Error::msg)?;
                print!("{message}");
                Ok(0)
            }
        }
    });
    match result {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("keyrelay: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log);
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(state) = args.state {
        config.state.store = Some(state);
    }
    let listen: SocketAddr = match args.listen {
        Some(addr) => addr,
        None => config.server.listen.parse().with_context(|| {
            format!("server.listen `{}` is not an address", config.server.listen)
        })?,
    };
    let settings = ServeSettings {
        config,
        aliases: args.model_alias,
    };
    let gateway = build_gateway(&settings, &ProcessEnv)?;
    check_listen(&listen, &gateway)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    for provider in gateway.registry.all() {
        if provider.spec.needs_keys() && !provider.pool.is_empty() {
            tracing::info!(provider = %provider.name(), keys = provider.pool.len(), "keys loaded");
        }
    }
    // Disabled keys come back by themselves once a re-check finds them valid.
    let recheck = gateway.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECHECK_EVERY).await;
            crate::check::recheck_disabled(&recheck.registry, &recheck.transport).await;
        }
    });
    tracing::info!(address = %listener.local_addr()?, "keyrelay listening");
    serve(listener, gateway.clone(), shutdown_signal()).await?;
    gateway.registry.flush().await;
    Ok(())
}

/// The configuration with `--state` applied, the state store, and the
/// providers with their pools over that store.
fn open_registry(
    args: &CommonArgs,
) -> anyhow::Result<(
    Config,
    std::sync::Arc<dyn keypool::StateStore>,
    crate::registry::Registry,
)> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(state) = args.state.clone() {
        config.state.store = Some(state);
    }
    let store =
        crate::store::open(&config.state, &ProcessEnv).context("opening the key state store")?;
    let registry = crate::registry::Registry::build(&config, &ProcessEnv, store.clone())?;
    Ok((config, store, registry))
}

async fn run_keys(args: KeysArgs) -> anyhow::Result<i32> {
    init_logging("warn");
    match args.command {
        None => {
            let (_, store, registry) = open_registry(&args.common)?;
            print!(
                "{}",
                crate::commands::keys::status(&registry, store.as_ref(), args.common.json).await
            );
            Ok(0)
        }
        Some(KeysCommand::Check { provider, common }) => {
            let (config, store, registry) = open_registry(&common)?;
            if let Some(name) = provider.as_deref() {
                if registry.get(name).is_none() {
                    anyhow::bail!(
                        "unknown provider `{name}`; known providers: {}",
                        registry.names()
                    );
                }
            }
            let transport = crate::transport::Transport::new(&config.timeouts)?;
            let (text, all_valid) = crate::commands::keys::check(
                &registry,
                &transport,
                provider.as_deref(),
                common.json,
            )
            .await;
            print!("{text}");
            // The checks' results are written behind: let them land first.
            let _ = store.flush().await;
            Ok(if all_valid { 0 } else { 2 })
        }
    }
}

async fn run_claude(args: ClaudeArgs) -> anyhow::Result<i32> {
    if args.verbose {
        let path = claude_log_path();
        let file = std::fs::File::create(&path)
            .with_context(|| format!("creating the log file {}", path.display()))?;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "info,keyrelay=debug,keypool=debug",
            ))
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
        eprintln!("keyrelay: gateway log: {}", path.display());
    }
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(state) = args.state {
        config.state.store = Some(state);
    }
    let plan = LaunchPlan {
        config,
        model: args.model,
        opus: args.opus,
        sonnet: args.sonnet,
        haiku: args.haiku,
        subagent: args.subagent,
        claude_bin: args.claude_bin,
        claude_args: args.claude_args,
        aliases: args.model_alias,
    };
    crate::launcher::run(plan, &ProcessEnv).await
}

/// `$XDG_STATE_HOME/keyrelay/logs/claude-PID.log` (or under `~/.local/state`,
/// or the temp dir when neither can be made).
fn claude_log_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .map(|b| b.join("keyrelay/logs"))
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("claude-{}.log", std::process::id()))
}

/// How often `serve` re-checks disabled keys with an unbilled call.
const RECHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(color)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

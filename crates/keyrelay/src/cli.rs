//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::env::ProcessEnv;
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
            Command::Serve(args) => run_serve(args).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyrelay: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log);
    let config = Config::load(args.config.as_deref())?;
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
    tracing::info!(address = %listener.local_addr()?, "keyrelay listening");
    serve(listener, gateway, shutdown_signal()).await?;
    Ok(())
}

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

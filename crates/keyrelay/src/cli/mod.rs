//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;

use crate::config::Config;
use crate::env::{no_color, state_dir, Env, ProcessEnv};
use crate::launcher::{Client, LaunchPlan, SlotModels};
use crate::server::{build_gateway, check_listen, serve, ServeSettings};

mod args;
mod generate;

pub use crate::commands::team_args::*;
pub use args::*;

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match runtime(threads_for(&cli.command)) {
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
            Command::Codex(args) => {
                let slots = SlotModels::default();
                run_launch(
                    Client::Codex,
                    args.launch,
                    slots,
                    args.codex_bin,
                    args.codex_args,
                )
                .await
            }
            Command::Gemini(args) => {
                let slots = SlotModels::default();
                run_launch(
                    Client::Gemini,
                    args.launch,
                    slots,
                    args.gemini_bin,
                    args.gemini_args,
                )
                .await
            }
            Command::Keys(args) => run_keys(args).await,
            Command::Vkeys(args) => {
                init_logging("warn");
                crate::commands::vkeys::run(args.command, &ProcessEnv).await
            }
            Command::Spend(args) => {
                init_logging("warn");
                crate::commands::spend::run(args, &ProcessEnv).await
            }
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
            Command::Health(args) => run_health(args).await,
            Command::Completions(args) => {
                generate::completions(args.shell, &mut std::io::stdout());
                Ok(0)
            }
            Command::Man(args) => {
                match args.dir {
                    Some(dir) => generate::man_pages(&dir)
                        .with_context(|| format!("writing manual pages into {}", dir.display()))?,
                    None => generate::man_page(&mut std::io::stdout())
                        .context("writing the manual page")?,
                }
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

/// How many threads serve requests: `serve --workers N` (default, one per
/// core); one for everything else: a launcher's gateway serves a single
/// client, and the other commands make a few calls and exit.
fn threads_for(command: &Command) -> usize {
    match command {
        Command::Serve(args) => serve_workers(args.workers),
        _ => 1,
    }
}

fn serve_workers(asked: Option<std::num::NonZeroUsize>) -> usize {
    asked
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get)
}

/// One thread gets a current-thread runtime: a request's tasks (the client's
/// connection, the upstream's, the handler) wake each other on that thread
/// with no hand-off between threads, which costs less CPU per request than a
/// one-worker multi-thread runtime (docs/performance.md).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("keyrelay-worker")
            .enable_all()
            .build()
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging_as(&args.log, args.log_format);
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
        fallbacks: args.fallback,
        config_path: args.config.clone(),
        keys_file: args.keys_file.clone(),
        listen: Some(listen),
        single_user: false,
    };
    let live = build_gateway(&settings, &ProcessEnv)?;
    live.team().start().await;
    check_listen(&listen, &live)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let gateway = live.gateway();
    for provider in gateway.registry.all() {
        if provider.spec.needs_keys() && !provider.pool.is_empty() {
            tracing::info!(provider = %provider.name(), keys = provider.pool.len(), "keys loaded");
        }
    }
    if let Some(warning) = gateway.registry.no_keys_warning() {
        tracing::warn!("{warning}");
    }
    let workers = serve_workers(args.workers);
    tracing::info!(address = %listener.local_addr()?, workers, "keyrelay listening");
    if !gateway.admin_tokens.is_empty() {
        let url = crate::ops::ui::url_for(listener.local_addr()?);
        tracing::info!(%url, "dashboard: open it in a browser and sign in with an admin token");
    }
    let reloads = tokio::spawn(reload_on_sighup(live.clone()));
    serve(listener, live.clone(), shutdown_signal()).await?;
    reloads.abort();
    live.gateway().registry.flush().await;
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
    // As `keyrelay serve` with this configuration would serve local servers.
    let local = ServeSettings::default().local_servers(&config, &ProcessEnv);
    let registry = crate::registry::Registry::build(&config, &ProcessEnv, store.clone(), local)?;
    Ok((config, store, registry))
}

async fn run_keys(args: KeysArgs) -> anyhow::Result<i32> {
    init_logging("warn");
    match args.command {
        None => {
            let (_, store, registry) = open_registry(&args.common)?;
            print!(
                "{}",
                crate::commands::keys::status(
                    &registry,
                    store.as_ref(),
                    &ProcessEnv,
                    args.common.json
                )
                .await
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
            let caller = crate::call::Caller::new(&config, &ProcessEnv)?;
            let (text, all_valid) = crate::commands::keys::check(
                &registry,
                &caller,
                provider.as_deref(),
                &ProcessEnv,
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

async fn run_health(args: HealthArgs) -> anyhow::Result<i32> {
    let url = args
        .url
        .unwrap_or_else(|| crate::commands::health::default_url(&ProcessEnv));
    let timeout = std::time::Duration::from_secs(args.timeout.max(1));
    match crate::commands::health::check(&url, timeout).await {
        Ok(body) => {
            println!("{body}");
            Ok(0)
        }
        Err(why) => {
            eprintln!("keyrelay: unhealthy: {why}");
            Ok(1)
        }
    }
}

async fn run_claude(args: ClaudeArgs) -> anyhow::Result<i32> {
    let slots = SlotModels {
        opus: args.opus,
        sonnet: args.sonnet,
        haiku: args.haiku,
        subagent: args.subagent,
    };
    run_launch(
        Client::Claude,
        args.launch,
        slots,
        args.claude_bin,
        args.claude_args,
    )
    .await
}

/// Any launcher: `-v` logging, the config with `--state`, then the run.
async fn run_launch(
    client: Client,
    args: LaunchArgs,
    slots: SlotModels,
    bin: Option<PathBuf>,
    client_args: Vec<String>,
) -> anyhow::Result<i32> {
    if args.verbose {
        let path = launch_log_path(client, &ProcessEnv);
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
        client,
        config,
        model: args.model,
        slots,
        bin,
        args: client_args,
        aliases: args.model_alias,
        fallbacks: args.fallback,
        dashboard: args.verbose,
    };
    crate::launcher::run(plan, &ProcessEnv).await
}

/// `logs/CLIENT-PID.log` (`claude-1234.log`) in keyrelay's state directory
/// ([`state_dir`]), or in the temp dir when there is none or it cannot be made.
fn launch_log_path(client: Client, env: &dyn Env) -> PathBuf {
    let base = state_dir(env)
        .map(|dir| dir.join("logs"))
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("{}-{}.log", client.command(), std::process::id()))
}

fn init_logging(filter: &str) {
    init_logging_as(filter, LogFormat::Text);
}

fn init_logging_as(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && !no_color(&ProcessEnv);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(color).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}

/// SIGHUP reloads the config file and the keys file, like `POST /admin/reload`.
#[cfg(unix)]
async fn reload_on_sighup(live: std::sync::Arc<crate::gateway::Live>) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        return;
    };
    while hangups.recv().await.is_some() {
        if let Err(error) = live.reload().await {
            tracing::error!(%error, "reload refused; the running configuration stays");
        }
    }
}

/// Windows has no SIGHUP: a reload goes through `POST /admin/reload`.
#[cfg(not(unix))]
async fn reload_on_sighup(_live: std::sync::Arc<crate::gateway::Live>) {
    tracing::debug!("no SIGHUP on Windows: reload with POST /admin/reload");
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

//! `keyrelay claude|codex|gemini`: an in-process gateway on a free loopback
//! port with a per-run token, and the client launched against it.
//!
//! The run is the same for every client (preflight, gateway, signals, exit
//! code); each client's module only says how it is pointed at the gateway.

mod child_env;
mod claude;
mod client;
mod codex;
mod gemini;
mod preflight;
mod signals;

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::Context;
use keypool::MemoryStore;

pub use child_env::{no_proxy, run_token};
pub use claude::{claude_env, ModelSlots};
pub use client::Client;
pub use codex::codex_args;
pub use gemini::{gemini_args, SETTINGS as GEMINI_SETTINGS};
pub use preflight::{check_model, find_client, PreflightError};
pub use signals::exit_code;

use crate::config::Config;
use crate::env::Env;
use crate::registry::{LocalServers, Registry};
use crate::server::{RunningGateway, ServeSettings};

/// What `keyrelay claude|codex|gemini` was asked to do.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    pub client: Client,
    pub config: Config,
    pub model: String,
    /// Claude Code's other model slots; the other clients have one model.
    pub slots: SlotModels,
    /// `--claude-bin`, `--codex-bin` or `--gemini-bin`.
    pub bin: Option<PathBuf>,
    /// Arguments for the client, after `--`.
    pub args: Vec<String>,
    /// Extra `--model-alias` rules.
    pub aliases: Vec<(String, String)>,
    /// `--fallback` rules.
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// Print the dashboard's address (`-v`), with an admin token made for
    /// this run when none is configured.
    pub dashboard: bool,
}

/// `--opus`, `--sonnet`, `--haiku`, `--subagent` (Claude Code only).
#[derive(Debug, Clone, Default)]
pub struct SlotModels {
    pub opus: Option<String>,
    pub sonnet: Option<String>,
    pub haiku: Option<String>,
    pub subagent: Option<String>,
}

/// How the client is started against this run's gateway.
struct ChildSetup {
    /// Arguments before the user's own.
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    removed: &'static [&'static str],
    /// Gemini CLI's settings for this run, removed when the run ends.
    _settings: Option<gemini::RunSettings>,
}

/// Checks everything, starts the gateway, runs the client, stops the
/// gateway and returns the client's exit code (128 + signal when it was
/// killed).
pub async fn run(plan: LaunchPlan, env: &dyn Env) -> anyhow::Result<i32> {
    let client = plan.client;
    let program = find_client(client, plan.bin.as_deref(), env)?;
    let slots = ModelSlots::from_plan(&plan);
    let probe = Registry::build(
        &plan.config,
        env,
        std::sync::Arc::new(MemoryStore::new()),
        LocalServers::All,
    )?;
    let models: Vec<&String> = match client {
        Client::Claude => slots.all().to_vec(),
        Client::Codex | Client::Gemini => vec![&plan.model],
    };
    for model in models {
        check_model(&probe, client, model)?;
    }
    drop(probe);

    let token = run_token();
    let mut config = plan.config.clone();
    config.server.access_tokens = vec![token.clone()];
    let configured_admin =
        !config.server.admin_tokens.is_empty() || env.non_empty("KEYRELAY_ADMIN_TOKENS").is_some();
    let run_admin = (plan.dashboard && !configured_admin).then(|| {
        let admin = run_token();
        config.server.admin_tokens = vec![admin.clone()];
        admin
    });
    let mut aliases = plan.aliases.clone();
    // Each client also names models itself (quick background calls, helper
    // prompts): whatever model of its own vendor it asks for goes to the
    // chosen one.
    aliases.push((client.own_models().to_owned(), plan.model.clone()));
    let settings = ServeSettings {
        config,
        aliases,
        fallbacks: plan.fallbacks.clone(),
        // Its one client, started below: local servers stay reachable
        // though the run has a token.
        single_user: true,
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, env)
        .await
        .context("starting the gateway")?;
    tracing::info!(address = %gateway.addr, model = %plan.model, "gateway for {client} started");
    if plan.dashboard {
        let url = crate::ops::ui::url_for(gateway.addr);
        match &run_admin {
            Some(admin) => {
                eprintln!("keyrelay: dashboard: {url} (admin token for this run: {admin})")
            }
            None => eprintln!("keyrelay: dashboard: {url} (sign in with your admin token)"),
        }
    }

    let setup = child_setup(&plan, &slots, &gateway.url(), &token, env)?;
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&setup.args)
        .args(&plan.args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    for name in setup.removed {
        command.env_remove(name);
    }
    for (name, value) in &setup.env {
        command.env(name, value);
    }
    let user_no_proxy = env.var("NO_PROXY").or_else(|| env.var("no_proxy"));
    let no_proxy = no_proxy(user_no_proxy.as_deref());
    command
        .env("NO_PROXY", &no_proxy)
        .env("no_proxy", &no_proxy);
    let mut child = command
        .spawn()
        .with_context(|| format!("launching {}", program.display()))?;
    let status = signals::wait_forwarding(&mut child).await?;
    drop(setup);
    let live = gateway.live.clone();
    gateway.stop().await;
    // What this session learned (cooling, disabled keys) must outlive it.
    live.gateway().registry.flush().await;
    Ok(exit_code(status))
}

fn child_setup(
    plan: &LaunchPlan,
    slots: &ModelSlots,
    base_url: &str,
    token: &str,
    env: &dyn Env,
) -> anyhow::Result<ChildSetup> {
    Ok(match plan.client {
        Client::Claude => ChildSetup {
            args: Vec::new(),
            env: claude_env(base_url, token, slots),
            removed: claude::REMOVED,
            _settings: None,
        },
        Client::Codex => ChildSetup {
            args: codex_args(base_url, &plan.model),
            env: codex::codex_env(token),
            removed: codex::REMOVED,
            _settings: None,
        },
        Client::Gemini => {
            let settings = gemini::RunSettings::write(env)
                .context("writing Gemini CLI's settings for this run")?;
            ChildSetup {
                args: gemini_args(&plan.model),
                env: gemini::gemini_env(base_url, token, &settings.path()),
                removed: gemini::REMOVED,
                _settings: Some(settings),
            }
        }
    })
}

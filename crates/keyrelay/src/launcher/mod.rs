//! `keyrelay claude`: an in-process gateway on a free loopback port, and
//! Claude Code launched against it with every model slot mapped.

mod child_env;
mod preflight;

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::Context;
use keypool::MemoryStore;

pub use child_env::{claude_env, no_proxy, run_token, ModelSlots, REMOVED};
pub use preflight::{check_model, find_claude, PreflightError};

use crate::config::Config;
use crate::env::Env;
use crate::registry::Registry;
use crate::server::{RunningGateway, ServeSettings};

/// What `keyrelay claude` was asked to do.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    pub config: Config,
    pub model: String,
    pub opus: Option<String>,
    pub sonnet: Option<String>,
    pub haiku: Option<String>,
    pub subagent: Option<String>,
    pub claude_bin: Option<PathBuf>,
    pub claude_args: Vec<String>,
    /// Extra `--model-alias` rules.
    pub aliases: Vec<(String, String)>,
    /// `--fallback` rules.
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// Print the dashboard's address (`-v`), with an admin token made for
    /// this run when none is configured.
    pub dashboard: bool,
}

/// Checks everything, starts the gateway, runs Claude Code, stops the gateway
/// and returns Claude Code's exit code (128 + signal when it was killed).
pub async fn run(plan: LaunchPlan, env: &dyn Env) -> anyhow::Result<i32> {
    let claude = find_claude(plan.claude_bin.as_deref(), env)?;
    let probe = Registry::build(&plan.config, env, std::sync::Arc::new(MemoryStore::new()))?;
    let slots = ModelSlots {
        main: plan.model.clone(),
        opus: plan.opus.clone().unwrap_or_else(|| plan.model.clone()),
        sonnet: plan.sonnet.clone().unwrap_or_else(|| plan.model.clone()),
        haiku: plan.haiku.clone().unwrap_or_else(|| plan.model.clone()),
        subagent: plan.subagent.clone().unwrap_or_else(|| plan.model.clone()),
    };
    for model in [
        &slots.main,
        &slots.opus,
        &slots.sonnet,
        &slots.haiku,
        &slots.subagent,
    ] {
        check_model(&probe, model)?;
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
    // Claude Code also names models itself (e.g. for quick background calls):
    // whatever Claude model it asks for goes to the chosen one.
    aliases.push(("claude-*".to_owned(), plan.model.clone()));
    let settings = ServeSettings {
        config,
        aliases,
        fallbacks: plan.fallbacks.clone(),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, env)
        .await
        .context("starting the gateway")?;
    tracing::info!(address = %gateway.addr, model = %plan.model, "gateway for Claude Code started");
    if plan.dashboard {
        let url = crate::front::ui::url_for(gateway.addr);
        match &run_admin {
            Some(admin) => {
                eprintln!("keyrelay: dashboard: {url} (admin token for this run: {admin})")
            }
            None => eprintln!("keyrelay: dashboard: {url} (sign in with your admin token)"),
        }
    }

    let mut command = tokio::process::Command::new(&claude);
    command
        .args(&plan.claude_args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    for name in REMOVED {
        command.env_remove(name);
    }
    for (name, value) in claude_env(&gateway.url(), &token, &slots) {
        command.env(name, value);
    }
    let user_no_proxy = env.var("NO_PROXY").or_else(|| env.var("no_proxy"));
    let no_proxy = no_proxy(user_no_proxy.as_deref());
    command
        .env("NO_PROXY", &no_proxy)
        .env("no_proxy", &no_proxy);
    let mut child = command
        .spawn()
        .with_context(|| format!("launching {}", claude.display()))?;
    let status = signals::wait_forwarding(&mut child).await?;
    let live = gateway.live.clone();
    gateway.stop().await;
    // What this session learned (cooling, disabled keys) must outlive it.
    live.gateway().registry.flush().await;
    Ok(exit_code(status))
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

mod signals {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    use tokio::signal::unix::{signal, SignalKind};

    /// Waits for Claude Code to exit. Ctrl-C reaches Claude Code from the
    /// terminal directly (same process group), so keyrelay only keeps it from
    /// ending keyrelay itself; SIGTERM and SIGHUP are passed on.
    pub async fn wait_forwarding(
        child: &mut tokio::process::Child,
    ) -> std::io::Result<std::process::ExitStatus> {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let pid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        loop {
            tokio::select! {
                status = child.wait() => return status,
                _ = interrupt.recv() => {}
                _ = terminate.recv() => forward(pid, Signal::SIGTERM),
                _ = hangup.recv() => forward(pid, Signal::SIGHUP),
            }
        }
    }

    fn forward(pid: Option<Pid>, signal: Signal) {
        if let Some(pid) = pid {
            let _ = kill(pid, signal);
        }
    }
}

//! The running gateway: everything a request needs, built from one
//! configuration ([`Gateway`]), and the one swapped in whole on reload or a
//! key change ([`Live`]).

mod live;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use keypool::StateStore;

use crate::call::Caller;
use crate::config::{Config, Timeouts};
use crate::env::Env;
use crate::keys_file::KeysFile;
use crate::registry::{LocalServers, Registry};
use crate::route::{Aliases, Fallbacks};
use crate::team::{Prices, Team};
pub use live::{ChangeError, KeyRef, KeysChanged, Live, Reloaded};

/// Everything `keyrelay serve` is started with, besides the environment.
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    pub config: Config,
    /// `--model-alias` rules, tried before the config file's.
    pub aliases: Vec<(String, String)>,
    /// `--fallback` rules, tried before the config file's.
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// The config file, read again on reload (`None`: `config` is all there is).
    pub config_path: Option<std::path::PathBuf>,
    /// `--keys-file`, over `server.keys_file`.
    pub keys_file: Option<std::path::PathBuf>,
    /// The address the gateway listens on (`serve --listen`, or the one
    /// bound); `None`: the configuration's `server.listen`.
    pub listen: Option<SocketAddr>,
    /// The gateway serves the one client a launcher started (`keyrelay
    /// claude|codex|gemini`: loopback, a token made for the run), so it is
    /// single-user although it has an access token.
    pub single_user: bool,
}

impl ServeSettings {
    /// Local servers nobody configured are reachable only through a
    /// single-user gateway: one listening on loopback with no access token,
    /// or a launcher's. Through a shared one, anyone with a token could
    /// reach whatever listens on the gateway's host.
    pub fn local_servers(&self, config: &Config, env: &dyn Env) -> LocalServers {
        let loopback = self
            .listen
            .or_else(|| config.server.listen.parse().ok())
            .is_some_and(|addr| addr.ip().is_loopback());
        if self.single_user || (loopback && access_tokens(config, env).is_empty()) {
            LocalServers::All
        } else {
            LocalServers::Configured
        }
    }
}

/// The tokens clients must send: `server.access_tokens` and
/// `KEYRELAY_ACCESS_TOKENS`.
pub fn access_tokens(config: &Config, env: &dyn Env) -> Vec<String> {
    tokens(&config.server.access_tokens, "KEYRELAY_ACCESS_TOKENS", env)
}

/// `listed`, then the comma-separated tokens of the variable `var`.
fn tokens(listed: &[String], var: &str, env: &dyn Env) -> Vec<String> {
    let mut tokens = listed.to_vec();
    if let Some(more) = env.non_empty(var) {
        tokens.extend(
            more.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    tokens
}

/// Everything a handler needs, built from one configuration; a reload
/// builds a new one ([`Live`]).
pub struct Gateway {
    /// The configuration this was built from (keys file not applied).
    pub config: Config,
    pub registry: Registry,
    pub aliases: Aliases,
    pub fallbacks: Fallbacks,
    pub caller: Caller,
    pub access_tokens: Vec<String>,
    /// For `/admin` and `/metrics`; none means both are off.
    pub admin_tokens: Vec<String>,
    pub max_body_bytes: usize,
    /// How often disabled keys are re-checked.
    pub recheck_every: std::time::Duration,
    /// What tokens cost (shipped prices with the config's over them).
    pub prices: Arc<Prices>,
    /// Virtual keys, spend and budgets: one for the process, kept across reloads.
    pub team: Arc<Team>,
}

impl Gateway {
    /// Providers and pools from `config` with `keys` applied, over `store`.
    pub fn build(
        settings: &ServeSettings,
        config: &Config,
        keys: &KeysFile,
        env: &dyn Env,
        store: Arc<dyn StateStore>,
        team: Arc<Team>,
    ) -> anyhow::Result<Gateway> {
        let local = settings.local_servers(config, env);
        let registry = Registry::build(&keys.apply_to(config), env, store, local)?;
        let access_tokens = access_tokens(config, env);
        let admin_tokens = tokens(&config.server.admin_tokens, "KEYRELAY_ADMIN_TOKENS", env);
        let aliases = Aliases::new(settings.aliases.clone(), config.aliases.clone());
        let fallbacks = Fallbacks::new(
            &registry,
            settings.fallbacks.clone(),
            config.fallbacks.clone(),
        )?;
        let caller = Caller::new(config, env).context("building the HTTP client")?;
        let prices = Prices::build(&config.prices)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(Gateway {
            config: config.clone(),
            registry,
            aliases,
            fallbacks,
            caller,
            access_tokens,
            admin_tokens,
            max_body_bytes: config.server.max_body_bytes,
            recheck_every: Timeouts::duration(config.pool.recheck_disabled_every),
            prices: Arc::new(prices),
            team,
        })
    }
}

#[cfg(test)]
mod tests;

//! Local servers (ollama, lmstudio, vllm): keyless servers on the gateway's
//! own host. On a gateway others share, anyone holding a token could send
//! any method, path and body to them through the gateway, so there they are
//! served only when the operator names them.

use crate::config::Config;
use crate::env::Env;
use crate::providers::{Dialect, ProviderSpec};

/// Which local servers a registry serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalServers {
    /// Every one, at its default address unless configured otherwise: the
    /// gateway is single-user (a loopback listener with no access token, or
    /// a launcher's gateway for its own client).
    All,
    /// Only those whose base URL variable or `[providers.NAME]` table names
    /// them: the gateway is shared.
    Configured,
}

impl LocalServers {
    /// Whether `spec` is served: any provider that is not a local server,
    /// and a local server as this choice says.
    pub(super) fn serve(self, spec: &ProviderSpec, config: &Config, env: &dyn Env) -> bool {
        !spec.local || self == LocalServers::All || configured(spec, config, env)
    }
}

/// Whether the operator named `spec`: its base URL variable is set, or the
/// config file has a `[providers.NAME]` table for it.
fn configured(spec: &ProviderSpec, config: &Config, env: &dyn Env) -> bool {
    config.providers.contains_key(&spec.name)
        || spec
            .base_url_env
            .as_deref()
            .is_some_and(|var| env.non_empty(var).is_some())
}

/// A local server this gateway does not serve, and how to enable it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("local provider `{provider}` is not enabled: this gateway is shared (it has access tokens or listens beyond loopback), so local servers are reachable only when configured; {}", self.how_to_enable())]
pub struct LocalServerOff {
    pub provider: String,
    /// Its base URL variable (`OLLAMA_BASE_URL`).
    pub variable: Option<String>,
    /// Whose error shape its own API (`/p/NAME/…`) answers in.
    pub dialect: Dialect,
}

impl LocalServerOff {
    pub(super) fn of(spec: &ProviderSpec) -> Self {
        LocalServerOff {
            provider: spec.name.clone(),
            variable: spec.base_url_env.clone(),
            dialect: spec.dialect,
        }
    }

    /// `set OLLAMA_BASE_URL or add [providers.ollama] to the config file`.
    pub fn how_to_enable(&self) -> String {
        let table = format!("add [providers.{}] to the config file", self.provider);
        match &self.variable {
            Some(variable) => format!("set {variable} or {table}"),
            None => table,
        }
    }
}

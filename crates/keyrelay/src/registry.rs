//! The providers this gateway serves, each with its key pool, built from the
//! built-in table, the config file and the environment.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use keypool::{parse_keys, ApiKey, Clock, KeyEntry, KeyPool, PoolConfig, StateStore};

use crate::config::{Config, ConfigError, KeyConfig, ProviderConfig};
use crate::env::Env;
use crate::providers::{builtin_providers, Auth, ProviderSpec};

/// A provider ready to serve: its facts, resolved base URL and key pool.
pub struct Provider {
    pub spec: ProviderSpec,
    /// `None` when the provider needs a base URL nobody gave (litellm); see
    /// [`Provider::base_url`].
    base_url: Option<String>,
    /// `base_url` parsed once, so a request only appends its path.
    base: Option<reqwest::Url>,
    pub pool: Arc<KeyPool>,
}

impl Provider {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The base URL, or why there is none (naming the variable to set).
    pub fn base_url(&self) -> Result<&str, MissingBaseUrl> {
        self.base_url.as_deref().ok_or_else(|| MissingBaseUrl {
            provider: self.spec.name.clone(),
            set: self
                .spec
                .base_url_env
                .clone()
                .unwrap_or_else(|| "base_url in the config file".to_owned()),
        })
    }
}

impl Provider {
    /// The upstream URL of `path` (which starts with `/`) below the base
    /// URL, with `query` if any.
    pub fn endpoint(
        &self,
        path: &str,
        query: Option<&str>,
    ) -> Result<reqwest::Url, MissingBaseUrl> {
        let Some(base) = &self.base else {
            self.base_url()?;
            return Err(MissingBaseUrl {
                provider: self.spec.name.clone(),
                set: "a base URL that parses as a URL".to_owned(),
            });
        };
        let mut url = base.clone();
        let joined = format!("{}{path}", base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(query);
        Ok(url)
    }
}

/// A provider that needs a base URL nobody gave (litellm without `LITELLM_BASE_URL`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("keyrelay: provider `{provider}` has no base URL; set {set}")]
pub struct MissingBaseUrl {
    pub provider: String,
    pub set: String,
}

pub struct Registry {
    providers: Vec<Arc<Provider>>,
}

impl Registry {
    /// Waits until every pool's recorded outcomes have reached the state
    /// store (all pools share one store, so one flush covers them).
    pub async fn flush(&self) {
        if let Some(provider) = self.providers.first() {
            provider.pool.flush().await;
        }
    }
}

impl Registry {
    pub fn build(
        config: &Config,
        env: &dyn Env,
        store: Arc<dyn StateStore>,
    ) -> Result<Registry, ConfigError> {
        let mut specs = builtin_providers();
        for (name, custom) in &config.providers {
            match specs.iter_mut().find(|s| s.name == *name) {
                Some(spec) => adjust(spec, custom),
                None => specs.push(custom_spec(name, custom)?),
            }
        }
        let clock = Clock::system();
        let providers = specs
            .into_iter()
            .map(|spec| {
                let custom = config.providers.get(&spec.name);
                let base_url = custom
                    .and_then(|c| c.base_url.clone())
                    .or_else(|| spec.base_url_env.as_deref().and_then(|v| env.non_empty(v)))
                    .or_else(|| spec.base_url.clone())
                    .map(|url| url.trim().trim_end_matches('/').to_owned());
                let keys = pool_keys(&spec, custom, env);
                let pool_config = PoolConfig {
                    strategy: custom
                        .and_then(|c| c.strategy)
                        .unwrap_or(config.pool.strategy),
                    policy: config.pool.cooldown.clone(),
                    refresh_interval: Duration::from_secs(1),
                };
                let pool =
                    KeyPool::with_store(spec.name.clone(), keys, pool_config, clock, store.clone());
                let base = base_url
                    .as_deref()
                    .and_then(|url| reqwest::Url::parse(url).ok());
                Arc::new(Provider {
                    spec,
                    base,
                    base_url,
                    pool: Arc::new(pool),
                })
            })
            .collect();
        Ok(Registry { providers })
    }

    /// A provider by name or alias (`google` → gemini).
    pub fn get(&self, name: &str) -> Option<&Arc<Provider>> {
        let name = name.to_ascii_lowercase();
        self.providers
            .iter()
            .find(|p| p.spec.name == name || p.spec.aliases.contains(&name))
    }

    pub fn all(&self) -> &[Arc<Provider>] {
        &self.providers
    }

    /// Comma-separated provider names, for error messages.
    pub fn names(&self) -> String {
        self.providers
            .iter()
            .map(|p| p.spec.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn adjust(spec: &mut ProviderSpec, custom: &ProviderConfig) {
    if let Some(dialect) = custom.dialect {
        spec.dialect = dialect;
    }
    if let Some(auth) = &custom.auth {
        spec.auth = auth.clone();
    }
    if let Some(envs) = &custom.keys_env {
        spec.key_envs.clone_from(envs);
    }
    spec.prefixes.extend(custom.prefixes.iter().cloned());
}

fn custom_spec(name: &str, custom: &ProviderConfig) -> Result<ProviderSpec, ConfigError> {
    let invalid = |what: &str| ConfigError::Invalid(format!("provider `{name}`: {what}"));
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid("names may use letters, digits, `-` and `_` only"));
    }
    let dialect = custom
        .dialect
        .ok_or_else(|| invalid("`dialect` is required for a custom provider"))?;
    if custom.base_url.is_none() {
        return Err(invalid("`base_url` is required for a custom provider"));
    }
    let var = name.to_ascii_uppercase().replace('-', "_");
    Ok(ProviderSpec {
        name: name.to_owned(),
        aliases: Vec::new(),
        prefixes: custom.prefixes.clone(),
        dialect,
        base_url: custom.base_url.clone(),
        base_url_env: None,
        auth: custom.auth.clone().unwrap_or(Auth::Bearer),
        key_envs: custom
            .keys_env
            .clone()
            .unwrap_or_else(|| vec![format!("{var}_API_KEY"), format!("{var}_API_KEYS")]),
    })
}

/// File keys first (they carry labels and weights), then environment keys
/// the file does not already list.
fn pool_keys(spec: &ProviderSpec, custom: Option<&ProviderConfig>, env: &dyn Env) -> Vec<KeyEntry> {
    if !spec.needs_keys() {
        // Keyless local servers still go through the pool: one anonymous slot.
        return vec![KeyEntry::from(ApiKey::new("", Some("no-key")))];
    }
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for key in custom.map(|c| c.keys.as_slice()).unwrap_or_default() {
        let (secret, label, weight) = match key {
            KeyConfig::Plain(k) => (k.as_str(), None, None),
            KeyConfig::Detailed { key, label, weight } => (key.as_str(), label.as_deref(), *weight),
        };
        let secret = secret.trim();
        if secret.is_empty() {
            continue;
        }
        let key = ApiKey::new(secret, label);
        if seen.insert(key.fingerprint().id().to_owned()) {
            entries.push(KeyEntry {
                key,
                weight: weight.unwrap_or(1).max(1),
            });
        }
    }
    let values: Vec<String> = spec.key_envs.iter().filter_map(|v| env.var(v)).collect();
    for key in parse_keys(values.iter().map(String::as_str)).keys {
        if seen.insert(key.fingerprint().id().to_owned()) {
            entries.push(KeyEntry::from(key));
        }
    }
    entries
}

#[cfg(test)]
mod tests;

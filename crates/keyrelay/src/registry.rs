//! The providers this gateway serves, each with its key pool, built from the
//! built-in table, the config file and the environment.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::Uri;
use keypool::{
    check_key, parse_keys, split_keys, ApiKey, Budget, Clock, KeyEntry, KeyPool, PoolConfig,
    Separators, StateStore,
};

use crate::config::{Config, ConfigError, KeyConfig, ProviderConfig};
use crate::env::Env;
use crate::providers::{builtin_providers, Auth, ProviderSpec};
use crate::transport::headers::forward_header_names;

mod local;
pub use local::{LocalServerOff, LocalServers};

/// A provider ready to serve: its facts, resolved base URL and key pool.
pub struct Provider {
    pub spec: ProviderSpec,
    /// `None` when the provider needs a base URL nobody gave (litellm); see
    /// [`Provider::base_url`].
    base_url: Option<String>,
    /// `base_url` taken apart once, so a request only appends its path.
    base: Option<Base>,
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
    /// URL, with `query` if any. Characters a URL may not carry are
    /// percent-encoded; existing escapes (`%2F`) go through unchanged.
    pub fn endpoint(&self, path: &str, query: Option<&str>) -> Result<Uri, EndpointError> {
        let Some(base) = &self.base else {
            self.base_url()?;
            return Err(MissingBaseUrl {
                provider: self.spec.name.clone(),
                set: "an http:// or https:// base URL (without user:password@)".to_owned(),
            }
            .into());
        };
        if climbs(path) {
            return Err(EndpointError::Climbs);
        }
        let mut target = String::with_capacity(
            base.path.len() + 1 + path.len() + query.map_or(0, |q| 1 + q.len()),
        );
        target.push_str(&base.path);
        if !path.starts_with('/') {
            target.push('/');
        }
        push_encoded(&mut target, path, Part::Path);
        if let Some(query) = query {
            target.push('?');
            push_encoded(&mut target, query, Part::Query);
        }
        let mut parts = Parts::default();
        parts.scheme = Some(base.scheme.clone());
        parts.authority = Some(base.authority.clone());
        parts.path_and_query =
            Some(PathAndQuery::try_from(target).map_err(|_| EndpointError::TooLong)?);
        Uri::from_parts(parts).map_err(|_| EndpointError::TooLong)
    }
}

/// A base URL taken apart once: what every upstream URI starts with.
struct Base {
    scheme: Scheme,
    authority: Authority,
    /// Percent-encoded, without a trailing `/`: request paths go after it.
    path: String,
}

impl Base {
    /// `None` unless `url` is an absolute `http`/`https` URL with a host
    /// and no credentials in it.
    fn parse(url: &str) -> Option<Base> {
        let parts = url.parse::<Uri>().ok()?.into_parts();
        let scheme = parts.scheme?;
        let authority = parts.authority?;
        if (scheme != Scheme::HTTP && scheme != Scheme::HTTPS)
            || authority.host().is_empty()
            || authority.as_str().contains('@')
        {
            return None;
        }
        let path = parts.path_and_query.as_ref().map_or("", |p| p.path());
        let mut encoded = String::with_capacity(path.len());
        push_encoded(&mut encoded, path.trim_end_matches('/'), Part::Path);
        Some(Base {
            scheme,
            authority,
            path: encoded,
        })
    }
}

/// The two parts of a URL a request fills in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Query,
}

impl Part {
    /// Bytes this part carries as they are, `%` among them so escapes stay
    /// escapes. The sets WHATWG URL parsers use for http(s) URLs: both
    /// escape controls, space, non-ASCII bytes, the double quote, `#`, `<`
    /// and `>`; a path also `?`, the backtick, `{` and `}`, a query `'`.
    fn keeps(self, b: u8) -> bool {
        match self {
            Part::Path => {
                matches!(b, 0x21 | 0x24..=0x3B | 0x3D | 0x40..=0x5B | 0x5D..=0x5F | 0x61..=0x7A | 0x7C | 0x7E)
            }
            Part::Query => matches!(b, 0x21 | 0x24..=0x26 | 0x28..=0x3B | 0x3D | 0x3F..=0x7E),
        }
    }
}

/// Appends `text` as `part` of a URL, percent-encoding what it may not carry.
fn push_encoded(out: &mut String, text: &str, part: Part) {
    if text.bytes().all(|b| part.keeps(b)) {
        out.push_str(text);
        return;
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if part.keeps(b) {
            out.push(char::from(b));
        } else if part == Part::Path && b == b'\\' {
            // As URL parsers read it in an http(s) path.
            out.push('/');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
}

/// Why there is no upstream URL for a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    MissingBaseUrl(#[from] MissingBaseUrl),
    /// Longer than a URI may be (64 KiB).
    #[error("keyrelay: the upstream URL would be too long")]
    TooLong,
    /// A `.` or `..` segment, encoded or not, which could climb above the
    /// provider's base URL.
    #[error("keyrelay: the upstream path may not hold `.` or `..` segments (plain or percent-encoded): it must stay below the provider's base URL")]
    Climbs,
}

/// Whether `path` holds a dot segment once percent-decoded (up to three
/// times over, for upstreams that decode twice), with `/` and `\\` both
/// taken as separators (as some servers do): an upstream that normalises it
/// would serve something above the base URL.
fn climbs(path: &str) -> bool {
    let dot_segment = |text: &[u8]| {
        text.split(|b| *b == b'/' || *b == b'\\')
            .any(|segment| segment == b"." || segment == b"..")
    };
    if dot_segment(path.as_bytes()) {
        return true;
    }
    if !path.contains('%') {
        return false;
    }
    let mut text = path.as_bytes().to_vec();
    for _ in 0..3 {
        text = percent_decoded(&text);
        if dot_segment(&text) {
            return true;
        }
        if !text.contains(&b'%') {
            return false;
        }
    }
    false
}

/// `text` with each valid `%XX` escape decoded once.
fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let escaped = (text[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(text[i]);
                i += 1;
            }
        }
    }
    decoded
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
    /// Local servers left out ([`LocalServers::Configured`]): known, so a
    /// request for one is told how to enable it, but never reachable.
    off: Vec<ProviderSpec>,
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
    /// The providers `config` and `env` describe; of the local servers,
    /// those `local` allows.
    pub fn build(
        config: &Config,
        env: &dyn Env,
        store: Arc<dyn StateStore>,
        local: LocalServers,
    ) -> Result<Registry, ConfigError> {
        let mut specs = builtin_providers();
        for (name, custom) in &config.providers {
            let forward_headers = forward_header_names(&custom.forward_headers).map_err(|why| {
                ConfigError::Invalid(format!("provider `{name}`: forward_headers: {why}"))
            })?;
            match specs.iter_mut().find(|s| s.name == *name) {
                Some(spec) => {
                    adjust(spec, custom);
                    spec.forward_headers = forward_headers;
                }
                None => specs.push(ProviderSpec {
                    forward_headers,
                    ..custom_spec(name, custom)?
                }),
            }
        }
        for spec in &specs {
            if let Auth::Header(name) = &spec.auth {
                // Else every request would go out without its key.
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(ConfigError::Invalid(format!(
                        "provider `{}`: auth header `{name}` is not a valid HTTP header name",
                        spec.name
                    )));
                }
            }
        }
        let (specs, off): (Vec<_>, Vec<_>) = specs
            .into_iter()
            .partition(|spec| local.serve(spec, config, env));
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
                let keys = pool_keys(&spec, custom, env)?;
                let pool_config = PoolConfig {
                    strategy: custom
                        .and_then(|c| c.strategy)
                        .unwrap_or(config.pool.strategy),
                    policy: config.pool.cooldown.clone(),
                    refresh_interval: Duration::from_secs(1),
                };
                let pool =
                    KeyPool::with_store(spec.name.clone(), keys, pool_config, clock, store.clone());
                let base = base_url.as_deref().and_then(Base::parse);
                Ok(Arc::new(Provider {
                    spec,
                    base,
                    base_url,
                    pool: Arc::new(pool),
                }))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Registry { providers, off })
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

    /// Why `name` is not served when it is a local server left out.
    pub fn off(&self, name: &str) -> Option<LocalServerOff> {
        let name = name.to_ascii_lowercase();
        self.off
            .iter()
            .find(|s| s.name == name || s.aliases.contains(&name))
            .map(LocalServerOff::of)
    }

    /// The local servers left out, in the built-in order.
    pub fn all_off(&self) -> &[ProviderSpec] {
        &self.off
    }

    /// Comma-separated provider names, for error messages.
    pub fn names(&self) -> String {
        self.providers
            .iter()
            .map(|p| p.spec.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// When no provider that takes keys has one: what to set, naming each
    /// provider's variables. `None` once any pool holds a key.
    pub fn no_keys_warning(&self) -> Option<String> {
        let needing: Vec<&Arc<Provider>> = self
            .providers
            .iter()
            .filter(|p| p.spec.needs_keys())
            .collect();
        if needing.iter().any(|p| !p.pool.is_empty()) {
            return None;
        }
        let variables: Vec<String> = needing
            .iter()
            .filter(|p| !p.spec.key_envs.is_empty())
            .map(|p| format!("{} ({})", p.spec.key_envs.join(" or "), p.spec.name))
            .collect();
        Some(format!(
            "no provider has API keys, so requests can reach only local servers (where they are enabled); set {} (comma-separated for several keys), or add keys to the config file",
            variables.join(", ")
        ))
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
    if let Some(responses) = custom.responses {
        spec.responses = responses;
    }
    if custom.continue_streams.is_some() {
        spec.continue_streams = custom.continue_streams;
    }
    if custom.prefill.is_some() {
        spec.prefill = custom.prefill;
    }
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
        responses: custom.responses.unwrap_or(false),
        local: false,
        forward_headers: Vec::new(),
        continue_streams: custom.continue_streams,
        prefill: custom.prefill,
    })
}

/// File keys first (they carry labels, weights and groups), then environment keys
/// the file does not already list. A key that breaks [`keypool::KEY_RULE`]
/// is refused, naming where it is listed and its hash: it could never
/// authenticate, and a pool quietly smaller than configured is worse.
fn pool_keys(
    spec: &ProviderSpec,
    custom: Option<&ProviderConfig>,
    env: &dyn Env,
) -> Result<Vec<KeyEntry>, ConfigError> {
    if !spec.needs_keys() {
        // Keyless local servers still go through the pool: one anonymous slot.
        return Ok(vec![KeyEntry::from(ApiKey::new("", Some("no-key")))]);
    }
    let broken = |place: String, broken: keypool::BrokenKey| {
        ConfigError::Invalid(format!("{place}: {broken}; fix or remove it"))
    };
    // Keys removed at runtime stay out, wherever they are listed.
    let mut seen: HashSet<String> = custom
        .map(|c| c.removed.iter().cloned().collect())
        .unwrap_or_default();
    let mut entries = Vec::new();
    let provider_budget = custom.map(ProviderConfig::budget).unwrap_or_default();
    for key in custom.map(|c| c.keys.as_slice()).unwrap_or_default() {
        let (secret, label, weight, group, budget) = match key {
            KeyConfig::Plain(k) => (k.as_str(), None, None, None, Budget::default()),
            KeyConfig::Detailed {
                key,
                label,
                weight,
                group,
                rpm,
                tpm,
                rpd,
            } => (
                key.as_str(),
                label.as_deref(),
                *weight,
                group.as_deref(),
                Budget {
                    rpm: *rpm,
                    tpm: *tpm,
                    rpd: *rpd,
                },
            ),
        };
        let secret = secret.trim();
        if secret.is_empty() {
            continue;
        }
        check_key(secret).map_err(|b| {
            broken(
                format!("provider `{}`, a key in the configuration", spec.name),
                b,
            )
        })?;
        let key = ApiKey::new(secret, label);
        if seen.insert(key.fingerprint().id().to_owned()) {
            entries.push(KeyEntry {
                key,
                weight: weight.unwrap_or(1).max(1),
                group: group
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned),
                budget: budget.or(provider_budget),
            });
        }
    }
    let mut values = Vec::new();
    for var in &spec.key_envs {
        let Some(value) = env.var(var) else { continue };
        for key in split_keys(&value, Separators::Whitespace) {
            check_key(key).map_err(|b| broken(var.clone(), b))?;
        }
        values.push(value);
    }
    for key in parse_keys(values.iter().map(String::as_str)).keys {
        if seen.insert(key.fingerprint().id().to_owned()) {
            entries.push(KeyEntry {
                budget: provider_budget,
                ..KeyEntry::from(key)
            });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests;

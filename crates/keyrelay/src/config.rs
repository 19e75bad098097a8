//! The config file (TOML) and its defaults. Keys and base URLs also come from
//! the environment (see [`crate::registry`]); the file wins on conflicts.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use figment::providers::Serialized;
use figment::Figment;
use keypool::{Budget, CooldownPolicy, Strategy};
use serde::{Deserialize, Serialize};

use crate::providers::{Auth, Dialect, Prefill};
use crate::store::StateSettings;

mod errors;
mod file;
mod price;

pub use price::Price;

use file::TomlText;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub timeouts: Timeouts,
    pub limits: Limits,
    pub pool: PoolSettings,
    /// Where key state persists and is shared (`[state]`).
    pub state: StateSettings,
    /// Glob on the incoming model name → routing target (`"claude-*" = "gemini@gemini-2.5-flash"`).
    pub aliases: BTreeMap<String, String>,
    /// Glob on the routed `provider@model` → targets to try in order when
    /// that provider cannot serve (`"gemini@*" = ["openai@gpt-4.1"]`).
    pub fallbacks: BTreeMap<String, Vec<String>>,
    /// Built-in providers to adjust, or custom ones to add.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Prices in USD per million tokens by `provider@model` (a glob is
    /// fine), over the ones keyrelay ships (`[prices."gemini@gemini-2.5-pro"]`).
    pub prices: BTreeMap<String, Price>,
    /// OpenTelemetry traces (`[telemetry]`), off by default; the `OTEL_*`
    /// variables win over it.
    pub telemetry: crate::telemetry::TelemetrySettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    /// Tokens clients must send (`x-api-key` or `Authorization: Bearer`).
    /// Required when listening beyond loopback.
    pub access_tokens: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Tokens for `/admin` and `/metrics` (`Authorization: Bearer`), apart
    /// from access tokens. None: both answer 404.
    pub admin_tokens: Vec<String>,
    /// Where keys added or removed through the admin API are kept
    /// (`--keys-file` wins). None: such changes live in memory only.
    pub keys_file: Option<String>,
    /// Proxied requests served at once; beyond it a request is answered
    /// `503` with `retry-after: 1` at once. A stream holds its slot until
    /// its body ends or the client goes away. `/health`, `/admin`,
    /// `/metrics` and `/ui` are not counted.
    pub max_concurrent_requests: usize,
    /// Largest request head (request line and headers), in bytes: a larger
    /// one is answered `431` (HTTP/1 then closes the connection). At least
    /// 8192.
    pub max_header_bytes: usize,
    /// Most headers in one HTTP/1 request; more is a `431`.
    pub max_headers: usize,
    /// Seconds a client has to send a request's headers, counted from when
    /// the connection opens or its previous response ends (HTTP/1). A slower
    /// client's connection is closed.
    pub header_read_timeout: f64,
    /// Seconds a connection may stay open with no request in flight.
    pub idle_timeout: f64,
    /// Seconds a request body may pause, counted from its head or its last
    /// bytes; and its pace: the whole body must arrive within this time
    /// plus this time again for every MiB received (at least 1 MiB per
    /// this time on average, about 35 KB/s at the default of 30). A slower
    /// body is answered `408` and gives its slot back. A pause limit alone
    /// lets a byte every few seconds hold a slot for ever; a total deadline
    /// alone cuts large uploads on slow links.
    pub body_read_timeout: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            access_tokens: Vec::new(),
            max_body_bytes: 32 * 1024 * 1024,
            admin_tokens: Vec::new(),
            keys_file: None,
            max_concurrent_requests: 1024,
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            header_read_timeout: 30.0,
            idle_timeout: 120.0,
            body_read_timeout: 30.0,
        }
    }
}

/// Size limits on what crosses the gateway.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A non-streamed answer up to this many bytes is read whole before the
    /// client sees it, so a body that breaks off or carries an error object
    /// still fails over; a larger one is streamed through unchecked.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Upstream timeouts in seconds. There is deliberately no whole-response
/// timeout: a long stream is healthy as long as bytes keep coming.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    pub connect: f64,
    /// Until the upstream's response headers (and, for streams, its first event).
    pub first_byte: f64,
    /// Longest silence between two body chunks.
    pub idle: f64,
    /// The whole request across every key, waits included (until the response starts).
    pub request: f64,
    /// Reading an error body for classification.
    pub error_body: f64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: 10.0,
            first_byte: 300.0,
            idle: 300.0,
            request: 900.0,
            error_body: 5.0,
        }
    }
}

impl Timeouts {
    pub fn duration(secs: f64) -> Duration {
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(1))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolSettings {
    pub strategy: Strategy,
    /// Seconds to wait for a cooling key when every key is cooling (0: answer 429 at once).
    pub max_wait: f64,
    /// Extra attempts on a key after a transient error, once no fresh key is left.
    pub same_key_retries: u32,
    /// Seconds between background re-checks of disabled keys.
    pub recheck_disabled_every: f64,
    /// A request that names its session (Claude Code and Codex do) keeps
    /// that session on one key, while sessions spread over the keys.
    /// Requests without a session follow `strategy`.
    pub session_affinity: bool,
    /// A stream that breaks after content went out (a reset, a silence, an
    /// error event another key could fix) is finished by the next key: the
    /// request goes again with what the client has as the assistant's
    /// prefill, where the provider continues one exactly, and the new
    /// stream joins the client's. Off: the client's stream ends with an
    /// error event.
    pub continue_streams: bool,
    /// Continuations one request may make.
    pub max_continuations: u32,
    pub cooldown: CooldownPolicy,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            strategy: Strategy::Sticky,
            max_wait: 0.0,
            same_key_retries: 1,
            recheck_disabled_every: 600.0,
            session_affinity: true,
            continue_streams: false,
            max_continuations: 2,
            cooldown: CooldownPolicy::default(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderConfig {
    pub dialect: Option<Dialect>,
    pub base_url: Option<String>,
    pub auth: Option<Auth>,
    /// Variables holding this provider's keys (default `NAME_API_KEY` and `NAME_API_KEYS`).
    pub keys_env: Option<Vec<String>>,
    pub keys: Vec<KeyConfig>,
    pub prefixes: Vec<String>,
    /// Whether the provider serves the OpenAI Responses API at
    /// `{base_url}/responses` (the built-in openai does).
    pub responses: Option<bool>,
    pub strategy: Option<Strategy>,
    /// Client-side budget of each key of this provider: requests per minute…
    pub rpm: Option<u64>,
    /// …tokens per minute (input and output)…
    pub tpm: Option<u64>,
    /// …and requests per day (a sliding 24 hours). A key's own wins.
    pub rpd: Option<u64>,
    /// Fingerprint ids of keys taken out of the pool, wherever they come
    /// from (the keys file keeps these for keys removed at runtime).
    pub removed: Vec<String>,
    /// Client headers this provider gets beyond its dialect's own, any case
    /// (`["OpenAI-Organization"]`): headers that pick who pays, or what a
    /// proxy in front of keyrelay adds, stay behind unless named here.
    /// Hop-by-hop headers and client credentials cannot be named.
    pub forward_headers: Vec<String>,
    /// `[pool] continue_streams` for this provider alone.
    pub continue_streams: Option<bool>,
    /// How the provider continues a prefilled turn: `off`, `final-turn`
    /// (a last assistant turn is continued) or `prefix-flag` (DeepSeek's
    /// prefix completion); by default as its dialect does.
    pub prefill: Option<Prefill>,
}

impl ProviderConfig {
    /// The budget every key of the provider gets unless it has its own.
    pub fn budget(&self) -> Budget {
        Budget {
            rpm: self.rpm,
            tpm: self.tpm,
            rpd: self.rpd,
        }
    }
}

/// A key in the config file: a plain string, or a table with a label,
/// weight, quota group and budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyConfig {
    Plain(String),
    Detailed {
        key: String,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        weight: Option<u32>,
        /// Keys sharing one quota (a Google Cloud project, an OpenAI
        /// organisation): a rate limit or quota on one cools them all.
        #[serde(default)]
        group: Option<String>,
        /// This key's own budget (see [`ProviderConfig::rpm`]).
        #[serde(default)]
        rpm: Option<u64>,
        #[serde(default)]
        tpm: Option<u64>,
        #[serde(default)]
        rpd: Option<u64>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(String),
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Defaults, then the TOML file if one is given. Errors name the file,
    /// line, column or field, never what the file says there: it holds
    /// keys.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        Config::figment(path)?
            .extract()
            .map_err(errors::field_errors)
    }

    /// The layered sources, for extraction and for telling where a value
    /// came from. The file is read and its syntax checked here.
    pub fn figment(path: Option<&Path>) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                return Err(ConfigError::Missing(path.display().to_string()));
            }
            figment = figment.merge(TomlText::read(path)?);
        }
        Ok(figment)
    }

    /// Parses TOML text (tests and `config check`).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(TomlText::string(text)?)
            .extract()
            .map_err(errors::field_errors)
    }

    /// Extracts the configuration `figment` holds, with errors as
    /// [`Config::load`] gives them.
    pub fn extract(figment: &Figment) -> Result<Config, ConfigError> {
        figment.extract().map_err(errors::field_errors)
    }
}

#[cfg(test)]
mod tests;

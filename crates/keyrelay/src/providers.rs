//! Provider facts: dialect, base URL, how keys are sent, where keys come from.

use http::HeaderName;
use serde::{Deserialize, Serialize};

pub use crate::dialect::Dialect;
pub use dialects::Prefill;

/// How the pooled key is put on an upstream request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `x-api-key: KEY` (plus `anthropic-version` when the client sent none).
    XApiKey,
    /// `x-goog-api-key: KEY` (never the `?key=` query parameter, which ends up in logs).
    XGoogApiKey,
    /// A header of the provider's choosing.
    Header(String),
    /// No key at all (local servers).
    None,
}

/// One provider, built in or from the config file.
#[derive(Debug, Clone)]
pub struct ProviderSpec {
    pub name: String,
    /// Other names accepted before `@` (`google@`, `lmstudio@`).
    pub aliases: Vec<String>,
    /// Short prefixes (`g/`, `oai/`).
    pub prefixes: Vec<String>,
    pub dialect: Dialect,
    /// Without a trailing slash; `None` when it must be configured (litellm).
    pub base_url: Option<String>,
    /// The variable that overrides the base URL.
    pub base_url_env: Option<String>,
    pub auth: Auth,
    /// Variables holding keys, each a list (`OPENAI_API_KEY`, `OPENAI_API_KEYS`).
    pub key_envs: Vec<String>,
    /// Serves the OpenAI Responses API at `{base_url}/responses`: a
    /// `/v1/responses` request goes there as sent instead of through the hub.
    pub responses: bool,
    /// A keyless server on the gateway's own host (ollama, lmstudio, vllm):
    /// reachable with no configuration only while the gateway is
    /// single-user ([`crate::registry::LocalServers`]).
    pub local: bool,
    /// Client headers this provider gets beyond its dialect's own (see
    /// [`crate::transport::headers`]): `forward_headers` in its config.
    pub forward_headers: Vec<HeaderName>,
    /// Whether a stream of this provider that breaks is finished by the
    /// next key; `None`: as `[pool] continue_streams` says.
    pub continue_streams: Option<bool>,
    /// How it continues a prefilled turn; `None`: as its dialect does
    /// ([`Dialect::prefill`]).
    pub prefill: Option<Prefill>,
}

impl ProviderSpec {
    #[allow(clippy::too_many_arguments)]
    fn builtin(
        name: &str,
        aliases: &[&str],
        prefixes: &[&str],
        dialect: Dialect,
        base_url: Option<&str>,
        base_url_env: Option<&str>,
        auth: Auth,
        key_envs: &[&str],
    ) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        ProviderSpec {
            name: name.to_owned(),
            aliases: owned(aliases),
            prefixes: owned(prefixes),
            dialect,
            base_url: base_url.map(str::to_owned),
            base_url_env: base_url_env.map(str::to_owned),
            auth,
            key_envs: owned(key_envs),
            responses: false,
            local: false,
            forward_headers: Vec::new(),
            continue_streams: None,
            prefill: None,
        }
    }

    /// How this provider continues a prefilled turn of `model`.
    pub fn prefill_for(&self, model: &str) -> Prefill {
        self.prefill.unwrap_or_else(|| self.dialect.prefill(model))
    }

    fn with_responses(mut self) -> Self {
        self.responses = true;
        self
    }

    fn on_this_host(mut self) -> Self {
        self.local = true;
        self
    }

    /// Whether this provider needs keys to serve.
    pub fn needs_keys(&self) -> bool {
        self.auth != Auth::None
    }
}

/// The built-in providers (DESIGN §3). Base URLs are the ones the providers'
/// official SDKs use, so `/p/{provider}/...` takes the same paths they send.
pub fn builtin_providers() -> Vec<ProviderSpec> {
    use Dialect::*;
    vec![
        ProviderSpec::builtin(
            "anthropic",
            &[],
            &["a/"],
            Anthropic,
            Some("https://api.anthropic.com"),
            Some("ANTHROPIC_UPSTREAM_BASE_URL"),
            Auth::XApiKey,
            // Plural only: ANTHROPIC_API_KEY is Claude Code's own credential.
            &["ANTHROPIC_API_KEYS"],
        ),
        ProviderSpec::builtin(
            "openai",
            &[],
            &["oai/"],
            OpenaiChat,
            Some("https://api.openai.com/v1"),
            Some("OPENAI_BASE_URL"),
            Auth::Bearer,
            &["OPENAI_API_KEY", "OPENAI_API_KEYS"],
        )
        .with_responses(),
        ProviderSpec::builtin(
            "gemini",
            &["google"],
            &["g/"],
            Gemini,
            Some("https://generativelanguage.googleapis.com"),
            Some("GEMINI_BASE_URL"),
            Auth::XGoogApiKey,
            &["GEMINI_API_KEY", "GEMINI_API_KEYS"],
        ),
        ProviderSpec::builtin(
            "openrouter",
            &[],
            &["or/"],
            Openrouter,
            Some("https://openrouter.ai/api/v1"),
            Some("OPENROUTER_BASE_URL"),
            Auth::Bearer,
            &["OPENROUTER_API_KEY", "OPENROUTER_API_KEYS"],
        ),
        ProviderSpec::builtin(
            "ollama-cloud",
            &[],
            &["oc/"],
            Ollama,
            Some("https://ollama.com"),
            Some("OLLAMA_CLOUD_BASE_URL"),
            Auth::Bearer,
            &["OLLAMA_API_KEY", "OLLAMA_API_KEYS"],
        ),
        ProviderSpec::builtin(
            "litellm",
            &[],
            &["ll/"],
            OpenaiChat,
            None,
            Some("LITELLM_BASE_URL"),
            Auth::Bearer,
            &["LITELLM_API_KEY", "LITELLM_API_KEYS"],
        ),
        ProviderSpec::builtin(
            "ollama",
            &[],
            &[],
            OpenaiChat,
            Some("http://localhost:11434/v1"),
            Some("OLLAMA_BASE_URL"),
            Auth::None,
            &[],
        )
        .on_this_host(),
        ProviderSpec::builtin(
            "lmstudio",
            &[],
            &[],
            OpenaiChat,
            Some("http://localhost:1234/v1"),
            Some("LMSTUDIO_BASE_URL"),
            Auth::None,
            &[],
        )
        .on_this_host(),
        ProviderSpec::builtin(
            "vllm",
            &[],
            &[],
            OpenaiChat,
            Some("http://localhost:8000/v1"),
            Some("VLLM_BASE_URL"),
            Auth::None,
            &[],
        )
        .on_this_host(),
    ]
}

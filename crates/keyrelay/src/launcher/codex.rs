//! How Codex CLI is launched: a provider for keyrelay given with `-c`
//! overrides (the user's `~/.codex/config.toml` is left alone), and the
//! switches that keep it from calling OpenAI's hosts.

/// The variable that carries the per-run token; the provider's `env_key`
/// names it, and Codex sends it as `Authorization: Bearer`.
pub const TOKEN_VAR: &str = "KEYRELAY_RUN_TOKEN";

/// The provider id keyrelay registers in Codex's `model_providers`.
pub const PROVIDER_ID: &str = "keyrelay";

/// Codex's own credentials: with keyrelay's provider selected it needs none,
/// so they are not passed on.
pub const REMOVED: &[&str] = &["OPENAI_API_KEY", "CODEX_API_KEY"];

/// `-c key=value` overrides, placed before the user's arguments (Codex
/// applies root overrides to every subcommand, `exec` included).
pub fn codex_args(base_url: &str, model: &str) -> Vec<String> {
    let provider = format!("model_providers.{PROVIDER_ID}");
    let settings = [
        (format!("{provider}.name"), toml_string("keyrelay")),
        (
            format!("{provider}.base_url"),
            toml_string(&format!("{base_url}/v1")),
        ),
        (format!("{provider}.env_key"), toml_string(TOKEN_VAR)),
        (format!("{provider}.wire_api"), toml_string("responses")),
        ("model_provider".to_owned(), toml_string(PROVIDER_ID)),
        ("model".to_owned(), toml_string(model)),
        // Vendor traffic off: the update check, product analytics,
        // feedback uploads and OpenTelemetry exporters (metrics default to
        // OpenAI's collector).
        ("check_for_update_on_startup".to_owned(), "false".to_owned()),
        ("analytics.enabled".to_owned(), "false".to_owned()),
        ("feedback.enabled".to_owned(), "false".to_owned()),
        ("otel.exporter".to_owned(), toml_string("none")),
        ("otel.trace_exporter".to_owned(), toml_string("none")),
        ("otel.metrics_exporter".to_owned(), toml_string("none")),
    ];
    settings
        .into_iter()
        .flat_map(|(key, value)| ["-c".to_owned(), format!("{key}={value}")])
        .collect()
}

/// Variables set for Codex: the per-run token under [`TOKEN_VAR`].
pub fn codex_env(token: &str) -> Vec<(&'static str, String)> {
    vec![(TOKEN_VAR, token.to_owned())]
}

/// A TOML string literal, so a model such as `openrouter@qwen/qwen3-coder`
/// reaches Codex exactly as written.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

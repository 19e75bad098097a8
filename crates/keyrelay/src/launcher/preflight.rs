//! Checks before anything launches, each failing with what to do about it.

use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::registry::Registry;
use crate::route::{resolve, Aliases, RouteError};

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "Claude Code (`claude`) was not found on PATH.\n  Install it:  npm install -g @anthropic-ai/claude-code\n  or point keyrelay at it:  --claude-bin /path/to/claude  (or KEYRELAY_CLAUDE_BIN)"
    )]
    ClaudeMissing,
    #[error("{path} (from {source_name}) is not an executable file")]
    ClaudeNotExecutable {
        path: String,
        source_name: &'static str,
    },
    #[error("bad --model `{model}`: {reason}\n  Write it as PROVIDER@MODEL, for example:\n    keyrelay claude --model gemini@gemini-2.5-flash\n    keyrelay claude --model openai@gpt-4.1\n    keyrelay claude --model openrouter@qwen/qwen3-coder\n  Providers: {providers}")]
    BadModel {
        model: String,
        reason: String,
        providers: String,
    },
    #[error("no API key for {provider}: set {vars} (several keys: comma separated), e.g.\n    export {first}=\"key-one,key-two\"")]
    NoKeys {
        provider: String,
        vars: String,
        first: String,
    },
    #[error("provider {provider} has no base URL: set {var}")]
    NoBaseUrl { provider: String, var: String },
}

/// Where `claude` is: the flag, then `KEYRELAY_CLAUDE_BIN`, then `PATH`.
pub fn find_claude(flag: Option<&Path>, env: &dyn Env) -> Result<PathBuf, PreflightError> {
    let chosen = flag.map(|p| (p.to_path_buf(), "--claude-bin")).or_else(|| {
        env.non_empty("KEYRELAY_CLAUDE_BIN")
            .map(|p| (PathBuf::from(p), "KEYRELAY_CLAUDE_BIN"))
    });
    if let Some((path, source_name)) = chosen {
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(PreflightError::ClaudeNotExecutable {
                path: path.display().to_string(),
                source_name,
            })
        };
    }
    let path = env.var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("claude"))
        .find(|candidate| is_executable(candidate))
        .ok_or(PreflightError::ClaudeMissing)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Checks that `model` routes to a provider keyrelay can serve Claude Code
/// with, and that the provider has keys and a base URL.
pub fn check_model(registry: &Registry, model: &str) -> Result<(), PreflightError> {
    let bad = |reason: String| PreflightError::BadModel {
        model: model.to_owned(),
        reason,
        providers: registry.names(),
    };
    let route = resolve(registry, &Aliases::default(), model).map_err(|err| match err {
        RouteError::UnknownProvider { name, .. } => bad(format!("unknown provider `{name}`")),
        other => bad(other.to_string()),
    })?;
    let provider = &route.provider;
    if provider.base_url().is_err() {
        return Err(PreflightError::NoBaseUrl {
            provider: provider.name().to_owned(),
            var: provider
                .spec
                .base_url_env
                .clone()
                .unwrap_or_else(|| "base_url in the config file".into()),
        });
    }
    if provider.spec.needs_keys() && provider.pool.is_empty() {
        let vars = &provider.spec.key_envs;
        return Err(PreflightError::NoKeys {
            provider: provider.name().to_owned(),
            vars: vars.join(" or "),
            first: vars.first().cloned().unwrap_or_default(),
        });
    }
    Ok(())
}

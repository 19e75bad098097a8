//! Checks before anything launches, each failing with what to do about it.

use std::path::{Path, PathBuf};

use super::Client;
use crate::env::Env;
use crate::registry::Registry;
use crate::route::{resolve, Aliases, RouteError};

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "{} (`{}`) was not found on PATH.\n  Install it:  npm install -g {}\n  or point keyrelay at it:  {} /path/to/{}  (or {})",
        client.product(), client.command(), client.npm_package(), client.bin_flag(), client.command(), client.bin_env()
    )]
    ClientMissing { client: Client },
    #[error("{path} (from {source_name}) is not an executable file")]
    NotExecutable {
        path: String,
        source_name: &'static str,
    },
    #[error("bad --model `{model}`: {reason}\n  Write it as PROVIDER@MODEL, for example:\n    keyrelay {command} --model gemini@gemini-2.5-flash\n    keyrelay {command} --model openai@gpt-4.1\n    keyrelay {command} --model openrouter@qwen/qwen3-coder\n  Providers: {providers}")]
    BadModel {
        model: String,
        reason: String,
        providers: String,
        command: &'static str,
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

/// Where the client's executable is: its flag, then its variable
/// (`KEYRELAY_CLAUDE_BIN`…), then `PATH`.
pub fn find_client(
    client: Client,
    flag: Option<&Path>,
    env: &dyn Env,
) -> Result<PathBuf, PreflightError> {
    let chosen = flag
        .map(|p| (p.to_path_buf(), client.bin_flag()))
        .or_else(|| {
            env.non_empty(client.bin_env())
                .map(|p| (PathBuf::from(p), client.bin_env()))
        });
    if let Some((path, source_name)) = chosen {
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(PreflightError::NotExecutable {
                path: path.display().to_string(),
                source_name,
            })
        };
    }
    let path = env.var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| {
            EXECUTABLE_SUFFIXES
                .iter()
                .map(move |suffix| dir.join(format!("{}{suffix}", client.command())))
        })
        .find(|candidate| is_executable(candidate))
        .ok_or(PreflightError::ClientMissing { client })
}

/// What a command's file name may end with on PATH.
#[cfg(unix)]
const EXECUTABLE_SUFFIXES: &[&str] = &[""];
/// npm installs the clients on Windows as `claude.cmd` (and a `.ps1`).
#[cfg(not(unix))]
const EXECUTABLE_SUFFIXES: &[&str] = &[".exe", ".cmd", ".bat", ""];

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Windows has no execute bit: any file is a candidate.
#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Checks that `model` routes to a provider keyrelay can serve the client
/// with, and that the provider has keys and a base URL.
pub fn check_model(registry: &Registry, client: Client, model: &str) -> Result<(), PreflightError> {
    let bad = |reason: String| PreflightError::BadModel {
        model: model.to_owned(),
        reason,
        providers: registry.names(),
        command: client.command(),
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

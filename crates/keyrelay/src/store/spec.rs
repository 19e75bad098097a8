//! Which store to use: `memory`, `sqlite[:PATH]` or `redis://HOST:PORT[/DB]`,
//! as given to `--state`, `KEYRELAY_STATE` or the config file's `[state]`,
//! and the rest of `[state]`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::env::Env;

/// The key state store (`[state]`); `--state` and `KEYRELAY_STATE` override `store`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateSettings {
    /// `memory`, `sqlite`, `sqlite:PATH` or `redis://HOST:PORT[/DB]`. Unset:
    /// SQLite at `$XDG_STATE_HOME/keyrelay/state.db` (else `~/.local/state/…`).
    pub store: Option<StateSpec>,
    /// Milliseconds one store call may take before keyrelay goes on from memory.
    pub timeout_ms: u64,
}

impl Default for StateSettings {
    fn default() -> Self {
        StateSettings {
            store: None,
            timeout_ms: 250,
        }
    }
}

/// A state store choice. Printed and serialised with any Redis password
/// replaced by `***`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StateSpec {
    /// This process only; nothing survives a restart.
    Memory,
    /// A SQLite file shared by the processes of one machine; `None` is the
    /// default path ([`default_sqlite_path`]).
    Sqlite(Option<PathBuf>),
    /// A Redis server shared by replicas on several hosts (the URL as given).
    Redis(String),
}

#[derive(Debug, thiserror::Error)]
#[error("unknown state store `{0}`: use memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]")]
pub struct StateSpecError(String);

impl FromStr for StateSpec {
    type Err = StateSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text == "memory" {
            Ok(StateSpec::Memory)
        } else if text == "sqlite" {
            Ok(StateSpec::Sqlite(None))
        } else if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(StateSpecError(text.to_owned()));
            }
            Ok(StateSpec::Sqlite(Some(expand_home(path))))
        } else if text.starts_with("redis://") {
            Ok(StateSpec::Redis(text.to_owned()))
        } else {
            Err(StateSpecError(text.to_owned()))
        }
    }
}

impl TryFrom<String> for StateSpec {
    type Error = StateSpecError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<StateSpec> for String {
    fn from(spec: StateSpec) -> String {
        spec.to_string()
    }
}

impl fmt::Display for StateSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSpec::Memory => f.write_str("memory"),
            StateSpec::Sqlite(None) => f.write_str("sqlite"),
            StateSpec::Sqlite(Some(path)) => write!(f, "sqlite:{}", path.display()),
            StateSpec::Redis(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `redis://user:secret@host` → `redis://***@host`, so a printed or
/// serialised choice never shows a password (the store itself keeps the URL).
fn redact_password(url: &str) -> String {
    let Some(rest) = url.strip_prefix("redis://") else {
        return url.to_owned();
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            let path = &rest[authority.len()..];
            format!("redis://***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// `~/x` → `$HOME/x`, as a shell would; anything else unchanged.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// `$XDG_STATE_HOME/keyrelay/state.db`, else `$HOME/.local/state/keyrelay/state.db`
/// (the XDG base directory rules); `None` when neither variable is set, e.g. a
/// test's clean environment, which then keeps state in memory.
pub fn default_sqlite_path(env: &dyn Env) -> Option<PathBuf> {
    let base = env
        .non_empty("XDG_STATE_HOME")
        .map(PathBuf::from)
        // XDG says relative values are invalid and must be ignored.
        .filter(|p| p.is_absolute())
        .or_else(|| {
            env.non_empty("HOME")
                .map(|home| PathBuf::from(home).join(".local").join("state"))
        })?;
    Some(base.join("keyrelay").join("state.db"))
}

//! Which store to use: `memory`, `sqlite[:PATH]` or `redis://HOST:PORT[/DB]`,
//! as given to `--state`, `KEYRELAY_STATE` or the config file's `[state]`,
//! and the rest of `[state]`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::env::{state_dir, Env};

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
    /// default, `state.db` in keyrelay's state directory
    /// ([`crate::env::state_dir`]). A leading `~/` stays as given here and is
    /// expanded when the store opens.
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
            // `~/` is expanded when the store opens, against its `Env`.
            Ok(StateSpec::Sqlite(Some(PathBuf::from(path))))
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

/// The file `sqlite[:PATH]` names: PATH, a leading `~/` taken from `HOME` as
/// a shell would; without PATH the default ([`default_sqlite_path`]).
pub(super) fn sqlite_file(path: Option<&Path>, env: &dyn Env) -> Option<PathBuf> {
    let Some(path) = path else {
        return default_sqlite_path(env);
    };
    let home = env.non_empty("HOME");
    match (path.to_str().and_then(|p| p.strip_prefix("~/")), home) {
        (Some(rest), Some(home)) => Some(PathBuf::from(home).join(rest)),
        _ => Some(path.to_owned()),
    }
}

/// `state.db` in keyrelay's state directory ([`state_dir`]); `None` when it
/// has none, and then state is kept in memory.
fn default_sqlite_path(env: &dyn Env) -> Option<PathBuf> {
    Some(state_dir(env)?.join("state.db"))
}

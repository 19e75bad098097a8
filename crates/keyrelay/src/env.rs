//! The process environment behind a small trait, so tests pass a map
//! instead of touching global state.

use std::collections::HashMap;
use std::path::PathBuf;

pub trait Env: Send + Sync {
    /// The variable's value, `None` when unset or not UTF-8.
    fn var(&self, name: &str) -> Option<String>;

    /// An owned handle on the same variables, for what outlives the call
    /// (a reload reads keys from the environment again).
    fn snapshot(&self) -> std::sync::Arc<dyn Env>;

    /// The value when set to something other than whitespace.
    fn non_empty(&self, name: &str) -> Option<String> {
        self.var(name).filter(|v| !v.trim().is_empty())
    }
}

/// keyrelay's directory for state and logs, by the XDG base directory rules:
/// `$XDG_STATE_HOME/keyrelay`, else `$HOME/.local/state/keyrelay` (on
/// Windows, where `HOME` is seldom set, then `%LOCALAPPDATA%\keyrelay`);
/// `None` when none is set (e.g. a test's clean environment).
pub fn state_dir(env: &dyn Env) -> Option<PathBuf> {
    let base = env
        .non_empty("XDG_STATE_HOME")
        .map(PathBuf::from)
        // XDG says relative values are invalid and must be ignored.
        .filter(|p| p.is_absolute())
        .or_else(|| {
            env.non_empty("HOME")
                .map(|home| PathBuf::from(home).join(".local").join("state"))
        })
        .or_else(|| local_app_data(env))?;
    Some(base.join("keyrelay"))
}

#[cfg(windows)]
fn local_app_data(env: &dyn Env) -> Option<PathBuf> {
    env.non_empty("LOCALAPPDATA").map(PathBuf::from)
}

#[cfg(not(windows))]
fn local_app_data(_env: &dyn Env) -> Option<PathBuf> {
    None
}

/// Whether `NO_COLOR` asks for plain output (set to anything but empty).
pub fn no_color(env: &dyn Env) -> bool {
    env.var("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn snapshot(&self) -> std::sync::Arc<dyn Env> {
        std::sync::Arc::new(ProcessEnv)
    }
}

/// A fixed set of variables.
#[derive(Debug, Clone, Default)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        MapEnv(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    fn snapshot(&self) -> std::sync::Arc<dyn Env> {
        std::sync::Arc::new(self.clone())
    }
}

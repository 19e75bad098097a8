//! The config file read once and its syntax checked, then handed to figment
//! as the same text, so the file figment reads is the file checked.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map};
use figment::{Metadata, Profile, Provider};

use super::errors::syntax_error;
use super::ConfigError;

/// TOML text that parses, and the file it came from (if any).
pub(super) struct TomlText {
    path: Option<PathBuf>,
    text: String,
}

impl TomlText {
    /// Reads the file at `path` and checks its syntax.
    pub(super) fn read(path: &Path) -> Result<TomlText, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::Invalid(format!("cannot read config file {}: {e}", path.display()))
        })?;
        TomlText::check(Some(path.to_path_buf()), text)
    }

    /// Checks the syntax of `text` (tests and `config check`).
    pub(super) fn string(text: &str) -> Result<TomlText, ConfigError> {
        TomlText::check(None, text.to_owned())
    }

    fn check(path: Option<PathBuf>, text: String) -> Result<TomlText, ConfigError> {
        if let Err(err) = toml::from_str::<toml::Table>(&text) {
            return Err(syntax_error(path.as_deref(), &text, &err));
        }
        Ok(TomlText { path, text })
    }
}

impl Provider for TomlText {
    fn metadata(&self) -> Metadata {
        match &self.path {
            Some(path) => Metadata::from("TOML file", path.as_path()),
            None => Metadata::named("TOML text"),
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Toml::string(&self.text).data()
    }

    fn profile(&self) -> Option<Profile> {
        Provider::profile(&Toml::string(&self.text))
    }
}

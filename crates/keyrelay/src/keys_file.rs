//! The keys file: keys added and removed at runtime (admin API), kept apart
//! from the config file so keyrelay never rewrites what people wrote.
//!
//! It has the config's shape, one table per provider:
//!
//! ```toml
//! [providers.gemini]
//! keys = [{ key = "…", label = "team-a" }]
//! removed = ["3f9c0a1b2c4d"]   # fingerprint ids of keys taken out, wherever they came from
//! ```
//!
//! It is written whole, atomically (a temporary file, fsync, rename), with
//! mode 0600: it holds keys.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{Config, KeyConfig};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysFile {
    pub providers: BTreeMap<String, ProviderKeys>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderKeys {
    pub keys: Vec<KeyConfig>,
    /// Fingerprint ids of keys removed through the admin API, whether they
    /// came from the config file, the environment or this file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysFileError {
    #[error("reading the keys file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the keys file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
    #[error("writing the keys file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// What keyrelay last read from or wrote to the keys file, to tell whether
/// someone changed it since: a hash and the length of its bytes (`None`: no
/// file). Only compared within one process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OnDisk(Option<(u64, usize)>);

impl OnDisk {
    fn of(bytes: &[u8]) -> OnDisk {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut hasher);
        OnDisk(Some((hasher.finish(), bytes.len())))
    }
}

/// Why [`KeysFile::save_over`] did not write.
#[derive(Debug, thiserror::Error)]
pub enum NotSaved {
    /// The file on disk does not load (a hand edit gone wrong): keyrelay
    /// will not overwrite what it cannot read.
    #[error("{0}")]
    Broken(KeysFileError),
    /// The file loads but is not what keyrelay last read or wrote: a hand
    /// edit not reloaded yet, which a write would lose.
    #[error("the keys file {path} changed on disk since keyrelay last read or wrote it")]
    Changed { path: String },
    #[error("{0}")]
    Failed(KeysFileError),
}

impl KeysFile {
    /// Reads `path`; a file that does not exist yet is empty.
    pub fn load(path: &Path) -> Result<KeysFile, KeysFileError> {
        KeysFile::read(path).map(|(file, _)| file)
    }

    /// [`KeysFile::load`], and what was on disk.
    pub fn read(path: &Path) -> Result<(KeysFile, OnDisk), KeysFileError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok((KeysFile::default(), OnDisk::default()))
            }
            Err(source) => {
                return Err(KeysFileError::Read {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let on_disk = OnDisk::of(&bytes);
        let invalid = |message: String| KeysFileError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid("not UTF-8 text".into()))?;
        // The parser's message can quote the offending line, which may hold
        // a key: report the position only.
        let file: KeysFile = toml::from_str(text).map_err(|err| {
            invalid(match err.span() {
                Some(span) => format!(
                    "syntax or field error at byte {} ({})",
                    span.start,
                    err.message()
                        .lines()
                        .next()
                        .and_then(|l| l.split('`').next())
                        .unwrap_or("invalid")
                        .trim()
                ),
                None => "syntax or field error".into(),
            })
        })?;
        file.check_keys().map_err(invalid)?;
        Ok((file, on_disk))
    }

    /// Every key follows [`keypool::KEY_RULE`]; the refusal names the
    /// provider, the key's place and its hash, never the key.
    fn check_keys(&self) -> Result<(), String> {
        for (name, provider) in &self.providers {
            for (n, key) in provider.keys.iter().enumerate() {
                let (KeyConfig::Plain(secret) | KeyConfig::Detailed { key: secret, .. }) = key;
                keypool::check_key(secret.trim())
                    .map_err(|broken| format!("provider `{name}`, key {}: {broken}", n + 1))?;
            }
        }
        Ok(())
    }

    /// Writes the file whole: a temporary file beside it (mode 0600),
    /// flushed to disk, then renamed over it, so a crash leaves the old or
    /// the new file, never half of one.
    pub fn save(&self, path: &Path) -> Result<OnDisk, KeysFileError> {
        let failed = |source| KeysFileError::Write {
            path: path.display().to_string(),
            source,
        };
        let text = toml::to_string_pretty(self).map_err(|e| failed(std::io::Error::other(e)))?;
        let text = format!("{HEADER}{text}");
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let temporary = temporary_beside(path);
        let written = (|| {
            let mut file = open_private(&temporary)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)?;
            // The rename itself reaches the disk with the directory.
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written.map_err(failed)?;
        Ok(OnDisk::of(text.as_bytes()))
    }

    /// [`KeysFile::save`], but only over the file keyrelay last read or
    /// wrote (`seen`): a file changed since, loadable or not, stays as it is.
    pub fn save_over(&self, path: &Path, seen: OnDisk) -> Result<OnDisk, NotSaved> {
        let now = match std::fs::read(path) {
            Ok(bytes) => OnDisk::of(&bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => OnDisk::default(),
            Err(source) => {
                return Err(NotSaved::Broken(KeysFileError::Read {
                    path: path.display().to_string(),
                    source,
                }))
            }
        };
        if now != seen {
            KeysFile::read(path).map_err(NotSaved::Broken)?;
            return Err(NotSaved::Changed {
                path: path.display().to_string(),
            });
        }
        self.save(path).map_err(NotSaved::Failed)
    }

    /// `config` with this file's keys added to each provider's, and its
    /// removals noted.
    pub fn apply_to(&self, config: &Config) -> Config {
        let mut config = config.clone();
        for (name, keys) in &self.providers {
            let provider = config.providers.entry(name.clone()).or_default();
            provider.keys.extend(keys.keys.iter().cloned());
            provider.removed.extend(keys.removed.iter().cloned());
        }
        config
    }
}

const HEADER: &str = "# keyrelay keys file: keys added or removed at runtime (admin API).\n# Written by keyrelay; it holds API keys, keep it private.\n\n";

fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "keys.toml".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(test)]
mod tests;

//! How Gemini CLI is launched: API-key auth against keyrelay's Gemini front,
//! and a settings file for this run that turns off its vendor traffic.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::env::{state_dir, Env};

/// Credentials and switches that would send Gemini CLI elsewhere: the
/// google-genai SDK prefers `GOOGLE_API_KEY` over `GEMINI_API_KEY`, and the
/// Vertex / Code Assist switches pick another auth and host.
pub const REMOVED: &[&str] = &[
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_GCA",
    "GOOGLE_CLOUD_ACCESS_TOKEN",
];

/// Gemini CLI's system settings for this run. System settings override the
/// user's own (`~/.gemini/settings.json` stays untouched) and only these
/// keys are set: API-key auth, and no update check, usage statistics or
/// telemetry.
pub const SETTINGS: &str = r#"{
  "security": { "auth": { "selectedType": "gemini-api-key" } },
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false }
}
"#;

/// `-m MODEL` before the user's arguments. keyrelay's Gemini front takes
/// `provider@model` in the path, and Gemini CLI passes a model it does not
/// know through unchanged.
pub fn gemini_args(model: &str) -> Vec<String> {
    vec!["-m".to_owned(), model.to_owned()]
}

/// Variables set for Gemini CLI: the gateway as its Gemini API base URL
/// (plain http is accepted for loopback), the per-run token as its API key,
/// and the run's settings file.
pub fn gemini_env(base_url: &str, token: &str, settings: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("GOOGLE_GEMINI_BASE_URL", base_url.to_owned()),
        ("GEMINI_API_KEY", token.to_owned()),
        (
            "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
            settings.display().to_string(),
        ),
        ("GEMINI_TELEMETRY_ENABLED", "false".to_owned()),
    ]
}

/// A private directory holding the run's settings file, removed when the
/// run ends. It lives under keyrelay's state directory, not the temp dir:
/// Gemini CLI skips a system settings file with any group- or
/// world-writable ancestor (such as `/tmp`).
#[derive(Debug)]
pub struct RunSettings {
    dir: PathBuf,
}

impl RunSettings {
    pub fn write(env: &dyn Env) -> anyhow::Result<RunSettings> {
        let runs = state_dir(env)
            .context("no state directory: set XDG_STATE_HOME or HOME")?
            .join("runs");
        std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
        if let Some(open) = shared_ancestor(&runs) {
            // Gemini CLI would then refuse the run's API-key auth with a
            // bare "Invalid auth method selected.": say why beforehand.
            eprintln!(
                "keyrelay: warning: Gemini CLI ignores a settings file below a group- or world-writable directory ({}), and the run's settings are in {}; set XDG_STATE_HOME to a private directory",
                open.display(),
                runs.display()
            );
        }
        let dir = runs.join(format!(
            "keyrelay-gemini-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let settings = RunSettings { dir };
        let mut file = private_new_file(&settings.path())?;
        std::io::Write::write_all(&mut file, SETTINGS.as_bytes())?;
        Ok(settings)
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join("settings.json")
    }
}

/// The first directory of `dir` or its ancestors that others may write to
/// (group or world write permission), if any.
#[cfg(unix)]
fn shared_ancestor(dir: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let dir = dir.canonicalize().ok()?;
    dir.ancestors()
        .find(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o022 != 0))
        .map(Path::to_path_buf)
}

/// Windows has no mode bits; the state directory under the user's profile
/// is private to the user by its access list.
#[cfg(not(unix))]
fn shared_ancestor(_dir: &Path) -> Option<PathBuf> {
    None
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().create(dir)
}

#[cfg(unix)]
fn private_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

impl Drop for RunSettings {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

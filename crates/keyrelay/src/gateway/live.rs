//! The gateway as it runs: the current configuration's [`Gateway`], replaced
//! whole when the configuration is reloaded or an operator adds or removes
//! keys.
//!
//! A request takes the current `Gateway` once and keeps it to the end, so a
//! swap never fails an in-flight request: it finishes on the pools it
//! started with. The new pools take over what the old ones knew of every key
//! that stayed ([`keypool::KeyPool::inherit`]); both share one state store.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use keypool::{
    check_key, parse_key_list, split_keys, ApiKey, Fingerprint, ParsedKeys, Separators, StateStore,
};
use serde::Serialize;

use super::{Gateway, ServeSettings};
use crate::config::{Config, KeyConfig};
use crate::env::Env;
use crate::keys_file::{KeysFile, NotSaved, OnDisk};
use crate::team::Team;
use crate::telemetry::Telemetry;

/// What serves requests now, and how to build its successor.
pub struct Live {
    current: RwLock<Arc<Gateway>>,
    settings: ServeSettings,
    env: Arc<dyn Env>,
    /// Opened once: a reload keeps the store (and its connections).
    store: Arc<dyn StateStore>,
    /// Virtual keys, spend and budgets, over the same store; kept across reloads.
    team: Arc<Team>,
    /// Tracing, when on: set up at start, kept across reloads.
    telemetry: Option<Arc<Telemetry>>,
    keys_path: Option<PathBuf>,
    /// The keys file as last applied (kept in memory when there is no file).
    /// Its lock also makes changes one at a time.
    keys: tokio::sync::Mutex<Applied>,
}

/// The keys file as the running gateway applies it, and what was on disk
/// when keyrelay last read or wrote it.
struct Applied {
    file: KeysFile,
    on_disk: OnDisk,
}

/// Why a change was refused; the old configuration stays.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The caller's mistake (an unknown provider, an empty key list).
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The new configuration does not build, or the keys file cannot be written.
    #[error("{0}")]
    Failed(String),
    /// The keys file on disk does not load, or changed since keyrelay last
    /// read it: a change would overwrite what keyrelay has not read.
    #[error("{0}")]
    KeysFileConflict(String),
}

/// What a reload did.
#[derive(Debug, Serialize)]
pub struct Reloaded {
    pub providers: usize,
    pub keys: usize,
}

/// A key the admin API added or found, by fingerprint only.
#[derive(Debug, Serialize)]
pub struct KeyRef {
    pub provider: String,
    pub key: Fingerprint,
    pub id: String,
}

/// What adding or removing keys did.
#[derive(Debug, Serialize)]
pub struct KeysChanged {
    pub keys: Vec<KeyRef>,
    /// Keys already in the pool (added) or not in it (removed): untouched.
    pub unchanged: Vec<KeyRef>,
    /// Whether the change is in the keys file and survives a restart.
    pub persisted: bool,
    pub note: String,
}

impl Live {
    /// Opens the state store and the keys file, and builds the first gateway.
    pub fn start(settings: ServeSettings, env: &dyn Env) -> anyhow::Result<Arc<Live>> {
        let stores = crate::store::open_stores(&settings.config.state, env)
            .context("opening the key state store")?;
        let store = stores.keys;
        let team = Team::sharing_warnings(stores.team, keypool::Clock::system(), stores.warnings);
        let keys_path = settings
            .keys_file
            .clone()
            .or_else(|| settings.config.server.keys_file.clone().map(PathBuf::from));
        let (keys, on_disk) = match &keys_path {
            Some(path) => KeysFile::read(path)?,
            None => (KeysFile::default(), OnDisk::default()),
        };
        let env = env.snapshot();
        let telemetry = Telemetry::start(&settings.config.telemetry, &*env)
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let gateway = Gateway::build(
            &settings,
            &settings.config,
            &keys,
            &*env,
            store.clone(),
            team.clone(),
        )?;
        Ok(Arc::new(Live {
            current: RwLock::new(Arc::new(gateway)),
            settings,
            env,
            store,
            team,
            telemetry,
            keys_path,
            keys: tokio::sync::Mutex::new(Applied {
                file: keys,
                on_disk,
            }),
        }))
    }

    /// The gateway serving now. Hold it for the whole request.
    pub fn gateway(&self) -> Arc<Gateway> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Virtual keys, spend and budgets.
    pub fn team(&self) -> &Arc<Team> {
        &self.team
    }

    /// Tracing, when it is on.
    pub fn telemetry(&self) -> Option<&Arc<Telemetry>> {
        self.telemetry.as_ref()
    }

    pub fn keys_path(&self) -> Option<&PathBuf> {
        self.keys_path.as_ref()
    }

    /// Reads the config file and the keys file again and swaps in what
    /// they describe. A configuration that no longer builds is refused with
    /// its error, and the running one stays.
    pub async fn reload(&self) -> Result<Reloaded, ChangeError> {
        let mut keys = self.keys.lock().await;
        let config = match &self.settings.config_path {
            Some(path) => {
                let mut config =
                    Config::load(Some(path)).map_err(|e| ChangeError::Failed(e.to_string()))?;
                // The store was opened once; the running one stays.
                config.state = self.settings.config.state.clone();
                config
            }
            None => self.settings.config.clone(),
        };
        let (fresh, on_disk) = match &self.keys_path {
            Some(path) => KeysFile::read(path).map_err(|e| ChangeError::Failed(e.to_string()))?,
            None => (keys.file.clone(), keys.on_disk),
        };
        let gateway = self.build(&config, &fresh)?;
        let reloaded = Reloaded {
            providers: gateway.registry.all().len(),
            keys: gateway.registry.all().iter().map(|p| p.pool.len()).sum(),
        };
        self.swap(gateway);
        *keys = Applied {
            file: fresh,
            on_disk,
        };
        tracing::info!(
            providers = reloaded.providers,
            keys = reloaded.keys,
            "configuration reloaded"
        );
        Ok(reloaded)
    }

    /// Adds `secrets` (each one key, or several separated by commas,
    /// semicolons or line breaks) to `provider`'s pool. Nothing is added if
    /// any key breaks [`keypool::KEY_RULE`].
    pub async fn add_keys(
        &self,
        provider: &str,
        secrets: &[String],
        label: Option<&str>,
    ) -> Result<KeysChanged, ChangeError> {
        let mut keys = self.keys.lock().await;
        let current = self.gateway();
        let Some(target) = current.registry.get(provider) else {
            return Err(ChangeError::Invalid(format!(
                "unknown provider `{provider}`; known providers: {}",
                current.registry.names()
            )));
        };
        if !target.spec.needs_keys() {
            return Err(ChangeError::Invalid(format!(
                "provider `{}` takes no keys",
                target.name()
            )));
        }
        let name = target.name().to_owned();
        let parsed = pasted_keys(secrets)?;
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if label.is_some_and(|l| l.chars().any(char::is_control)) {
            return Err(ChangeError::Invalid(
                "a label may not hold control characters or line breaks".into(),
            ));
        }
        let present: BTreeSet<String> = target
            .pool
            .keys()
            .map(|k| k.fingerprint().id().to_owned())
            .collect();
        let mut next = keys.file.clone();
        let entry = next.providers.entry(name.clone()).or_default();
        let (mut added, mut unchanged) = (Vec::new(), Vec::new());
        for (n, key) in parsed.keys.iter().enumerate() {
            // Several keys under one label are told apart by number.
            let label = label.map(|l| {
                if parsed.keys.len() > 1 {
                    format!("{l}-{}", n + 1)
                } else {
                    l.to_owned()
                }
            });
            let labelled = ApiKey::new(key.expose(), label.as_deref());
            let id = labelled.fingerprint().id().to_owned();
            let reference = KeyRef {
                provider: name.clone(),
                key: labelled.fingerprint().clone(),
                id: id.clone(),
            };
            if present.contains(&id) {
                unchanged.push(reference);
                continue;
            }
            entry.removed.retain(|r| *r != id);
            entry.keys.push(match label {
                Some(label) => KeyConfig::Detailed {
                    key: key.expose().to_owned(),
                    label: Some(label),
                    weight: None,
                    group: None,
                    rpm: None,
                    tpm: None,
                    rpd: None,
                },
                None => KeyConfig::Plain(key.expose().to_owned()),
            });
            added.push(reference);
        }
        let persisted = self.commit(&mut keys, next, !added.is_empty()).await?;
        tracing::info!(provider = %name, added = added.len(), persisted, "keys added");
        Ok(KeysChanged {
            keys: added,
            unchanged,
            persisted,
            note: self.note(persisted),
        })
    }

    /// Takes the key with fingerprint id `id` out of every pool that has it
    /// (or out of `provider`'s only).
    pub async fn remove_key(
        &self,
        id: &str,
        provider: Option<&str>,
    ) -> Result<KeysChanged, ChangeError> {
        let mut keys = self.keys.lock().await;
        let current = self.gateway();
        let holders: Vec<_> = current
            .registry
            .all()
            .iter()
            .filter(|p| p.spec.needs_keys())
            .filter(|p| {
                provider.is_none_or(|name| {
                    current
                        .registry
                        .get(name)
                        .is_some_and(|q| Arc::ptr_eq(p, q))
                })
            })
            .filter_map(|p| {
                p.pool
                    .keys()
                    .find(|k| k.fingerprint().id() == id)
                    .map(|k| KeyRef {
                        provider: p.name().to_owned(),
                        key: k.fingerprint().clone(),
                        id: id.to_owned(),
                    })
            })
            .collect();
        if holders.is_empty() {
            return Err(ChangeError::NotFound(format!("no key with id `{id}`")));
        }
        let mut next = keys.file.clone();
        for holder in &holders {
            let entry = next.providers.entry(holder.provider.clone()).or_default();
            entry.keys.retain(|k| {
                let secret = match k {
                    KeyConfig::Plain(key) | KeyConfig::Detailed { key, .. } => key,
                };
                ApiKey::new(secret.trim(), None).fingerprint().id() != id
            });
            // Listed elsewhere too (the config file, the environment): keep it out.
            if !entry.removed.iter().any(|r| r == id) {
                entry.removed.push(id.to_owned());
            }
        }
        let persisted = self.commit(&mut keys, next, true).await?;
        tracing::info!(key_id = %id, pools = holders.len(), persisted, "key removed");
        Ok(KeysChanged {
            keys: holders,
            unchanged: Vec::new(),
            persisted,
            note: self.note(persisted),
        })
    }

    /// Builds the gateway `next` describes, writes `next` to the keys file
    /// (if there is one), then swaps both in. Nothing changes on failure.
    /// The file on disk is written only if it is still what keyrelay last
    /// read or wrote: a hand edit, loadable or not, is never overwritten.
    async fn commit(
        &self,
        keys: &mut Applied,
        next: KeysFile,
        changed: bool,
    ) -> Result<bool, ChangeError> {
        if !changed {
            return Ok(self.keys_path.is_some());
        }
        let config = self.gateway_config();
        let gateway = self.build(&config, &next)?;
        let mut on_disk = keys.on_disk;
        if let Some(path) = &self.keys_path {
            let (path, file, seen) = (path.clone(), next.clone(), keys.on_disk);
            on_disk = tokio::task::spawn_blocking(move || file.save_over(&path, seen))
                .await
                .map_err(|e| ChangeError::Failed(e.to_string()))?
                .map_err(refused_write)?;
        }
        self.swap(gateway);
        *keys = Applied {
            file: next,
            on_disk,
        };
        Ok(self.keys_path.is_some())
    }

    /// The configuration the running gateway was built from.
    fn gateway_config(&self) -> Config {
        self.gateway().config.clone()
    }

    fn build(&self, config: &Config, keys: &KeysFile) -> Result<Gateway, ChangeError> {
        let gateway = Gateway::build(
            &self.settings,
            config,
            keys,
            &*self.env,
            self.store.clone(),
            self.team.clone(),
        )
        .map_err(|e| ChangeError::Failed(format!("{e:#}")))?;
        let previous = self.gateway();
        for provider in gateway.registry.all() {
            if let Some(old) = previous.registry.get(provider.name()) {
                provider.pool.inherit(&old.pool);
            }
        }
        Ok(gateway)
    }

    fn swap(&self, gateway: Gateway) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(gateway);
    }

    fn note(&self, persisted: bool) -> String {
        match &self.keys_path {
            Some(path) if persisted => format!("saved in the keys file {}", path.display()),
            _ => "in memory only: start keyrelay with --keys-file PATH (or server.keys_file) to keep key changes across restarts".into(),
        }
    }
}

/// Why the keys file was not written, for the operator: what to do next.
fn refused_write(error: NotSaved) -> ChangeError {
    const RELOAD: &str = "reload (POST /admin/reload or SIGHUP)";
    let message = match error {
        NotSaved::Failed(error) => return ChangeError::Failed(error.to_string()),
        NotSaved::Broken(error) => format!(
            "{error}; keyrelay will not overwrite a keys file it cannot read: fix it by hand, then {RELOAD} and try the change again"
        ),
        changed @ NotSaved::Changed { .. } => format!(
            "{changed}; keyrelay will not overwrite changes it has not read: {RELOAD} to take them in, then try the change again"
        ),
    };
    tracing::warn!(reason = %message, "key change refused; nothing changed");
    ChangeError::KeysFileConflict(message)
}

/// The keys an operator pasted: each string one key or a list (commas,
/// semicolons, line breaks). The first key that breaks the rule refuses
/// them all, named by its place and hash.
fn pasted_keys(secrets: &[String]) -> Result<ParsedKeys, ChangeError> {
    for (n, secret) in secrets.iter().enumerate() {
        for key in split_keys(secret, Separators::LineBreaks) {
            check_key(key).map_err(|broken| {
                ChangeError::Invalid(format!("keys[{n}]: {broken}; nothing was added"))
            })?;
        }
    }
    let parsed = parse_key_list(secrets.iter().map(String::as_str), Separators::LineBreaks);
    if parsed.keys.is_empty() {
        return Err(ChangeError::Invalid("no keys given".into()));
    }
    Ok(parsed)
}

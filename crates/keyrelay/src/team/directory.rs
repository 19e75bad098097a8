//! The virtual keys a replica knows, by the hash of their secret, so a
//! request's key is checked in memory: one SHA-256 and one lookup.
//!
//! The directory follows the store: it reads the keys' version every
//! second and reloads the keys when it changed, so a change or revocation
//! made anywhere holds here within about a second. A key this replica has
//! not seen yet (made a moment ago elsewhere) is looked up in the store
//! once; a hash the store does not know is remembered as unknown for a
//! second, so a client sending garbage costs at most one store read per
//! second per secret. A secret checked once is known by a keyed hash
//! afterwards, until the keys change.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::ledger::Ledger;
use super::meter::{Limits, Meter};
use super::secret;
use crate::store::team::VirtualKey;

/// What a presented virtual key grants: the key as stored, and its meter.
#[derive(Debug)]
pub struct Grant {
    pub key: VirtualKey,
    pub name: Arc<str>,
    pub id: Arc<str>,
    pub team: Option<Arc<str>>,
    pub meter: Arc<Meter>,
}

impl Grant {
    pub fn new(key: VirtualKey, ledger: &Ledger) -> Arc<Grant> {
        let meter = ledger.meter(&key.id, Limits::of(&key));
        Arc::new(Grant {
            name: Arc::from(key.name.as_str()),
            id: Arc::from(key.id.as_str()),
            team: key.team.as_deref().map(Arc::from),
            meter,
            key,
        })
    }
}

/// The keys as last loaded.
#[derive(Default)]
struct Snapshot {
    /// The store's version they were loaded at; `None` before the first load.
    version: Option<u64>,
    by_hash: HashMap<[u8; 32], Arc<Grant>>,
}

/// How long a hash the store does not know is taken as unknown.
const UNKNOWN_FOR_MS: u64 = 1_000;
/// Unknown hashes remembered at most (then the memory starts over).
const UNKNOWN_LIMIT: usize = 10_000;

#[derive(Default)]
pub struct Directory {
    snapshot: RwLock<Arc<Snapshot>>,
    /// Whether any key is known (read on every request).
    any: AtomicBool,
    /// Hash → Unix ms until which it is taken as unknown.
    unknown: Mutex<HashMap<[u8; 32], u64>>,
    /// Secrets already checked here, by a 128-bit hash keyed with keys drawn
    /// at start: a key's next request costs two SipHash passes instead of
    /// a SHA-256. Emptied whenever the keys change, so a change holds at once.
    verified: RwLock<HashMap<u128, Arc<Grant>, BuildHasherDefault<TagHasher>>>,
    tag_keys: (RandomState, RandomState),
    /// Store look-ups of unknown secrets this second: (second, count).
    asked: Mutex<(u64, u32)>,
}

/// Store look-ups of secrets not known here, at most, per second.
const ASK_PER_SECOND: u32 = 20;

/// Secrets remembered as checked at most (then the memory starts over).
const VERIFIED_LIMIT: usize = 10_000;

/// Tags are keyed hashes already: a map of them hashes no further.
#[derive(Default)]
struct TagHasher(u64);

impl Hasher for TagHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, tag: u128) {
        self.0 = tag as u64;
    }
}

/// What the directory says of a hash.
pub enum Found {
    Key(Arc<Grant>),
    /// The store said a moment ago it has no such key.
    Unknown,
    /// Not known here: ask the store.
    Ask,
}

impl Directory {
    /// The keyed 128-bit tag of a presented secret.
    pub fn tag(&self, presented: &str) -> u128 {
        let (a, b) = &self.tag_keys;
        (u128::from(a.hash_one(presented)) << 64) | u128::from(b.hash_one(presented))
    }

    /// The key a secret with this tag was checked to be, since the keys last changed.
    pub fn verified(&self, tag: u128) -> Option<Arc<Grant>> {
        self.verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&tag)
            .cloned()
    }

    /// Remembers that the secret with this tag is `grant`'s.
    pub fn remember(&self, tag: u128, grant: &Arc<Grant>) {
        let mut verified = self.verified.write().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_LIMIT {
            verified.clear();
        }
        verified.insert(tag, grant.clone());
    }

    fn changed(&self, snapshot: Snapshot) {
        self.any
            .store(!snapshot.by_hash.is_empty(), Ordering::Release);
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        self.verified
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn find(&self, hash: &[u8; 32], now_ms: u64) -> Found {
        if let Some(grant) = self.snapshot().by_hash.get(hash) {
            return Found::Key(grant.clone());
        }
        let unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        match unknown.get(hash) {
            Some(until) if *until > now_ms => Found::Unknown,
            _ => Found::Ask,
        }
    }

    /// Whether a secret not known here may be looked up in the store now.
    pub fn may_ask(&self, now_ms: u64) -> bool {
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        let second = now_ms / 1000;
        if asked.0 != second {
            *asked = (second, 0);
        }
        asked.1 += 1;
        asked.1 <= ASK_PER_SECOND
    }

    /// Remembers that the store has no key with this hash.
    pub fn not_in_store(&self, hash: [u8; 32], now_ms: u64) {
        let mut unknown = self.unknown.lock().unwrap_or_else(|e| e.into_inner());
        if unknown.len() >= UNKNOWN_LIMIT {
            unknown.retain(|_, until| *until > now_ms);
            if unknown.len() >= UNKNOWN_LIMIT {
                unknown.clear();
            }
        }
        unknown.insert(hash, now_ms + UNKNOWN_FOR_MS);
    }

    /// Whether any virtual key exists (then every request needs a key).
    pub fn has_keys(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    pub fn is_loaded(&self) -> bool {
        self.snapshot().version.is_some()
    }

    pub fn version(&self) -> Option<u64> {
        self.snapshot().version
    }

    /// Every key known here.
    pub fn grants(&self) -> Vec<Arc<Grant>> {
        self.snapshot().by_hash.values().cloned().collect()
    }

    /// Replaces every key with `keys`, loaded at `version`.
    pub fn replace(&self, keys: Vec<VirtualKey>, version: u64, ledger: &Ledger) {
        let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
        ledger.keep_meters(&ids);
        let by_hash = keys
            .into_iter()
            .filter_map(|key| {
                let hash = secret::parse_hash(&key.hash)?;
                Some((hash, Grant::new(key, ledger)))
            })
            .collect();
        self.changed(Snapshot {
            version: Some(version),
            by_hash,
        });
    }

    /// Adds or replaces one key (made or changed here, or found in the
    /// store), without waiting for the next reload.
    pub fn put(&self, key: VirtualKey, ledger: &Ledger) -> Option<Arc<Grant>> {
        let hash = secret::parse_hash(&key.hash)?;
        let grant = Grant::new(key, ledger);
        self.unknown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&hash);
        let now = self.snapshot();
        let mut by_hash = now.by_hash.clone();
        by_hash.retain(|_, g| g.key.id != grant.key.id);
        by_hash.insert(hash, grant.clone());
        self.changed(Snapshot {
            version: now.version,
            by_hash,
        });
        Some(grant)
    }

    /// Drops one key at once (deleted here).
    pub fn remove(&self, id: &str) {
        let now = self.snapshot();
        let mut by_hash = now.by_hash.clone();
        by_hash.retain(|_, g| g.key.id != id);
        self.changed(Snapshot {
            version: now.version,
            by_hash,
        });
    }
}

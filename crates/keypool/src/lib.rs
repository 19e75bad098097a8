//! The key pool: API keys as secrets, their fingerprints, the outcome classes
//! an upstream attempt ends in, cooldowns derived from provider hints, key
//! selection strategies, and the failover executor that runs one request over
//! the pool.
//!
//! Nothing here does I/O except through the [`StateStore`] trait; time comes
//! from [`Clock`], which follows tokio's clock so tests run under a paused clock.
#![forbid(unsafe_code)]

pub mod budget;
mod clock;
mod executor;
mod health;
pub mod hints;
mod history;
mod outcome;
mod parse;
mod policy;
mod pool;
mod record;
mod secret;
mod store;
mod strategy;

pub use budget::{Budget, Span, UsageBucket};
pub use clock::Clock;
pub use executor::{
    Attempt, AttemptRecord, AttemptReply, ExecuteOptions, Finished, Refusal, Refused,
};
pub use health::{KeyHealth, KeyState, ScopedCooldown};
pub use history::MinuteCount;
pub use outcome::{Outcome, OutcomeClass};
pub use parse::{
    check_key, parse_key_list, parse_keys, split_keys, BrokenKey, ParsedKeys, Separators, KEY_RULE,
};
pub use policy::CooldownPolicy;
pub use pool::{KeyEntry, KeyPool, KeySnapshot, ModelCooldown, PoolConfig, DISABLED_BY_ADMIN};
pub use record::{ClassCounts, KeyRecord, KeyUpdate, RecordChange};
pub use secret::{ApiKey, Fingerprint};
pub use store::{MemoryStore, StateStore, StoreError, StoreFuture};
pub use strategy::{session_hash, Strategy};

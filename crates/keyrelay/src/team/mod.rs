//! A team's gateway: virtual keys (`kr-…`) per person or app, what every
//! answer costs, and budgets and rate limits that hold across replicas.
//!
//! - [`secret`]: making a key's secret and hashing a presented one;
//! - [`directory`]: the keys this replica knows, following the store;
//! - [`admission`]: routes, budgets and rate limits before a request;
//! - [`meter`]: one key's budgets and rates, shared through the store;
//! - [`ledger`]: spend booked per answer, written behind in batches;
//! - [`prices`], [`usage`]: what tokens cost;
//! - [`book`]: creating, changing and deleting keys (admin API and CLI);
//! - [`report`]: spend by key, team, model, provider or provider key.
//!
//! Everything reads wall time through one [`Clock`], so day, week and
//! month windows move under a paused test clock.

pub mod admission;
pub mod book;
pub mod directory;
pub mod ledger;
pub mod meter;
pub mod prices;
pub mod report;
pub mod secret;
pub mod spec;
pub mod usage;
pub mod windows;

use std::sync::{Arc, Weak};
use std::time::Duration;

use keypool::Clock;

pub use admission::{Admitted, Held, Refused};
pub use directory::Grant;
pub use prices::{Price, Prices};
pub use usage::Usage;

use crate::store::team::{SpendCounts, TeamError, TeamStore, VirtualKey};
use crate::store::warn::WarnLimiter;
use directory::{Directory, Found};
use ledger::{Ledger, Spent};
use meter::{Before, Estimate, Gate};

/// How often a replica looks for changed keys (revocation holds within
/// about this plus one store call).
const KEYS_EVERY: Duration = Duration::from_secs(1);
/// How often spend is written and budgets read back.
const SYNC_EVERY: Duration = Duration::from_millis(200);
/// Longest wait for a store call made for a request or in the background.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for the store's figure before a request near its budget;
/// past it, the request goes on what this replica knows.
const STRICT_TIMEOUT: Duration = Duration::from_millis(250);

/// A key's spend on its way to the store before its answer ends (near a
/// budget: see [`meter::Meter::near`]).
pub type WriteThrough = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Why a presented virtual key is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// `kr-` and then not what keyrelay makes.
    Malformed,
    /// No such key (never made, or deleted).
    Unknown,
    Expired {
        name: String,
        at_ms: u64,
    },
    Disabled {
        name: String,
    },
    /// The store could not be asked.
    Unavailable,
}

/// The team side of a running gateway; one per process, kept across reloads.
pub struct Team {
    store: Arc<dyn TeamStore>,
    clock: Clock,
    directory: Directory,
    ledger: Arc<Ledger>,
    started: std::sync::atomic::AtomicBool,
    /// Shared with the key state's store: one outage, one warning per interval.
    warnings: Arc<WarnLimiter>,
}

/// What an answer cost, as the request record shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Charge {
    pub usage: Usage,
    /// Nano-USD; `None` when the model has no price.
    pub nanos: Option<u64>,
    /// The usage was estimated: the answer reported none.
    pub estimated: bool,
}

/// An answer to book.
pub struct Answer<'a> {
    pub grant: Option<&'a Arc<Grant>>,
    pub admitted: Option<Admitted>,
    pub prices: &'a Prices,
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    pub provider_key: Option<&'a str>,
    /// Usage the answer reported, or an estimate (`estimated`).
    pub usage: Option<Usage>,
    pub estimated: bool,
    /// A 2xx answer: only those are booked.
    pub success: bool,
}

impl Team {
    pub fn new(store: Arc<dyn TeamStore>, clock: Clock) -> Arc<Team> {
        let warnings = Arc::new(WarnLimiter::new(Duration::from_secs(30)));
        Team::sharing_warnings(store, clock, warnings)
    }

    /// A team whose store warnings share `warnings` with the key state's.
    pub fn sharing_warnings(
        store: Arc<dyn TeamStore>,
        clock: Clock,
        warnings: Arc<WarnLimiter>,
    ) -> Arc<Team> {
        Arc::new(Team {
            ledger: Arc::new(Ledger::new(
                store.clone(),
                clock,
                CALL_TIMEOUT,
                warnings.clone(),
            )),
            warnings,
            store,
            clock,
            directory: Directory::default(),
            started: Default::default(),
        })
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    pub fn store(&self) -> &Arc<dyn TeamStore> {
        &self.store
    }

    /// Loads the keys once (bounded), then follows the store in the
    /// background for as long as the team lives.
    pub async fn start(self: &Arc<Team>) {
        if !self.directory.is_loaded() {
            self.reload_keys().await;
        }
        if self.started.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(self);
        tokio::spawn(follow(weak.clone(), KEYS_EVERY, |team| {
            Box::pin(async move { team.reload_keys().await })
        }));
        tokio::spawn(follow(weak, SYNC_EVERY, |team| {
            Box::pin(async move { team.ledger.sync().await })
        }));
    }

    /// Reloads every key when the store's version moved.
    async fn reload_keys(&self) {
        let version = match self.call(self.store.keys_version()).await {
            Ok(version) => version,
            Err(error) => return self.failed("read of virtual keys", &error),
        };
        if self.directory.version() == Some(version) {
            return;
        }
        match self.call(self.store.keys()).await {
            Ok(keys) => self.directory.replace(keys, version, &self.ledger),
            Err(error) => self.failed("read of virtual keys", &error),
        }
    }

    fn failed(&self, what: &str, error: &TeamError) {
        if let Some(suppressed) = self.warnings.allow() {
            tracing::warn!(%error, suppressed, "state store {what} failed; virtual keys as last read stay in force");
        }
    }

    async fn call<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, TeamError>>,
    ) -> Result<T, TeamError> {
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .unwrap_or(Err(TeamError::TimedOut(CALL_TIMEOUT.as_millis())))
    }

    /// Writes what is pending now (at shutdown).
    pub async fn flush(&self) {
        self.ledger.sync().await;
    }

    /// Whether any virtual key exists: then every request needs a key.
    pub fn has_keys(&self) -> bool {
        self.directory.has_keys()
    }

    /// The key a client presented (`kr-…`), if it may be used now.
    pub async fn authenticate(&self, presented: &str) -> Result<Arc<Grant>, Denied> {
        let now_ms = self.clock.now_ms();
        let tag = self.directory.tag(presented);
        if let Some(grant) = self.directory.verified(tag) {
            return usable(grant, now_ms);
        }
        let hash = secret::hash(presented);
        let grant = match self.directory.find(&hash, now_ms) {
            Found::Key(grant) => {
                self.directory.remember(tag, &grant);
                grant
            }
            _ if !secret::well_formed(presented) => return Err(Denied::Malformed),
            Found::Unknown => return Err(Denied::Unknown),
            // Secrets no key has: at most a few store look-ups a second, so
            // a flood of made-up keys costs the store nothing much (a key
            // made elsewhere meanwhile arrives with the next reload).
            Found::Ask if !self.directory.may_ask(now_ms) => return Err(Denied::Unknown),
            Found::Ask => {
                let hex = secret::hex(&hash);
                match self.call(self.store.key_by_hash(&hex)).await {
                    Ok(Some(key)) => self
                        .directory
                        .put(key, &self.ledger)
                        .ok_or(Denied::Unknown)?,
                    Ok(None) => {
                        self.directory.not_in_store(hash, now_ms);
                        return Err(Denied::Unknown);
                    }
                    Err(error) => {
                        self.failed("lookup of a virtual key", &error);
                        return Err(Denied::Unavailable);
                    }
                }
            }
        };
        usable(grant, now_ms)
    }

    /// Admits a request of `grant` for `client_model` routed to `model` on
    /// `provider` (priced by `price`), whose body is `body_len` bytes: its
    /// hold on the key's limits, `None` for a key without any.
    pub async fn admit(
        &self,
        grant: &Arc<Grant>,
        route: (&str, &str),
        client_model: &str,
        price: Option<Price>,
        body_len: usize,
    ) -> Result<Option<Admitted>, Refused> {
        let (provider, model) = route;
        if !grant.allows(client_model, provider, model) {
            return Err(Refused::Route {
                model: client_model.to_owned(),
            });
        }
        self.hold(grant, provider, Some(model), price, body_len)
            .await
    }

    /// Admits a request through the native passthrough of `provider`
    /// (for `model`, when the request names one, priced by `price`).
    pub async fn admit_passthrough(
        &self,
        grant: &Arc<Grant>,
        provider: &str,
        model: Option<&str>,
        price: Option<Price>,
        body_len: usize,
    ) -> Result<Option<Admitted>, Refused> {
        if !grant.allows_provider(provider) {
            return Err(Refused::Route {
                model: format!("{provider}@*"),
            });
        }
        self.hold(grant, provider, model, price, body_len).await
    }

    async fn hold(
        &self,
        grant: &Arc<Grant>,
        provider: &str,
        model: Option<&str>,
        price: Option<Price>,
        body_len: usize,
    ) -> Result<Option<Admitted>, Refused> {
        if price.is_none() && !grant.key.budget.is_empty() {
            return Err(Refused::Unpriced {
                model: format!("{provider}@{}", model.unwrap_or("*")),
            });
        }
        let meter = &grant.meter;
        if meter.is_unlimited() {
            return Ok(None);
        }
        // About four bytes of JSON per input token.
        let tokens = u64::try_from(body_len / 4).unwrap_or(u64::MAX);
        let estimate = Estimate {
            nanos: price.map_or(0, |p| {
                prices::cost_nanos(
                    &p,
                    &Usage {
                        input: tokens,
                        ..Usage::default()
                    },
                )
            }),
            tokens,
            unlimited: false,
        };
        let held = match meter.admit(self.clock.now_ms(), estimate, false) {
            Ok(held) => held,
            Err(Gate::Over(over)) => return Err(Refused::Over(over)),
            Err(Gate::Read(before)) => {
                match before {
                    Before::Load => self.ledger.load(meter).await,
                    Before::Refresh => self.ledger.refresh(meter, STRICT_TIMEOUT).await,
                }
                match meter.admit(self.clock.now_ms(), estimate, true) {
                    Ok(held) => held,
                    Err(Gate::Over(over)) => return Err(Refused::Over(over)),
                    Err(Gate::Read(_)) => unreachable!("a fresh admission reads nothing"),
                }
            }
        };
        Ok(Some(Admitted::new(grant.clone(), held)))
    }

    /// Books an answer: prices its usage, counts it against the key's
    /// budgets and in the spend of every dimension. What it cost, when
    /// anything was booked; and, for a key now near a budget, the write
    /// to finish before the answer ends.
    pub fn settle(&self, mut answer: Answer<'_>) -> (Option<Charge>, Option<WriteThrough>) {
        let now_ms = self.clock.now_ms();
        let admitted = answer.admitted.take();
        let charge = self.book(answer, now_ms);
        let write = admitted.and_then(|admitted| {
            let meter = admitted.grant.meter.clone();
            let near = match &charge {
                Some(charge) => admitted.settle(charge.nanos, charge.usage.total(), now_ms),
                None => false,
            };
            let ledger = self.ledger.clone();
            near.then(|| {
                Box::pin(async move { ledger.write_through(&meter).await }) as WriteThrough
            })
        });
        (charge, write)
    }

    fn book(&self, answer: Answer<'_>, now_ms: u64) -> Option<Charge> {
        let charge = answer.success.then(|| {
            let usage = answer.usage.unwrap_or_default();
            let price = answer
                .provider
                .zip(answer.model)
                .and_then(|(provider, model)| answer.prices.get(provider, model));
            Charge {
                usage,
                nanos: price.map(|p| prices::cost_nanos(&p, &usage)),
                estimated: answer.estimated,
            }
        });
        let (charge, provider) = (charge?, answer.provider?);
        let grant = answer.grant;
        self.ledger.record(&Spent {
            at_ms: now_ms,
            key: grant.map(|g| (&g.id, &g.name)),
            team: grant.and_then(|g| g.team.as_ref()),
            provider,
            model: answer.model,
            provider_key: answer.provider_key,
            counts: SpendCounts {
                requests: 1,
                input_tokens: charge.usage.input,
                output_tokens: charge.usage.output,
                cache_read_tokens: charge.usage.cache_read,
                cache_write_tokens: charge.usage.cache_write,
                usd_nanos: charge.nanos.unwrap_or(0),
                unpriced_requests: u64::from(charge.nanos.is_none()),
                estimated_requests: u64::from(charge.estimated),
            },
        });
        Some(charge)
    }

    /// Spend since start by virtual key, team and model, for `/metrics`.
    pub fn totals(&self) -> ledger::Totals {
        self.ledger.totals()
    }

    /// The key known here with id `id`.
    pub fn grant(&self, id: &str) -> Option<Arc<Grant>> {
        self.directory.grants().into_iter().find(|g| g.key.id == id)
    }

    /// A key made or changed here serves at once, here.
    pub fn learned(&self, key: VirtualKey) {
        self.directory.put(key, &self.ledger);
    }

    /// A key deleted here is refused at once, here.
    pub fn forgot(&self, id: &str) {
        self.directory.remove(id);
    }
}

/// `grant`, unless it is disabled or expired at `now_ms`.
fn usable(grant: Arc<Grant>, now_ms: u64) -> Result<Arc<Grant>, Denied> {
    if grant.key.disabled_at_ms.is_some() {
        return Err(Denied::Disabled {
            name: grant.key.name.clone(),
        });
    }
    if let Some(at_ms) = grant.key.expires_at_ms.filter(|at| *at <= now_ms) {
        return Err(Denied::Expired {
            name: grant.key.name.clone(),
            at_ms,
        });
    }
    Ok(grant)
}

/// Runs `work` every `every` while the team lives.
async fn follow(
    team: Weak<Team>,
    every: Duration,
    work: impl Fn(Arc<Team>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(team) = team.upgrade() else {
            return;
        };
        work(team).await;
    }
}

#[cfg(test)]
mod tests;

//! Validating keys with a cheap, unbilled call (the provider's model list or
//! key-info endpoint), for `keyrelay keys check` and the background re-check
//! of disabled keys.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use http::{HeaderMap, Method};
use keypool::{ApiKey, Fingerprint, Outcome, OutcomeClass};
use serde::Serialize;

use crate::call::{Caller, Upstream};
use crate::registry::{EndpointError, Provider, Registry};
use crate::transport::Outbound;

/// What a check found out about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Valid,
    Invalid,
    RateLimited,
    NoCredit,
    /// The provider or the network failed; nothing learnt about the key.
    Unreachable,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::RateLimited => "rate-limited",
            Verdict::NoCredit => "no credit",
            Verdict::Unreachable => "unreachable",
        }
    }

    fn of(class: OutcomeClass) -> Verdict {
        match class {
            OutcomeClass::Success => Verdict::Valid,
            OutcomeClass::KeyInvalid => Verdict::Invalid,
            OutcomeClass::RateLimited | OutcomeClass::QuotaDaily => Verdict::RateLimited,
            OutcomeClass::KeyNoCredit => Verdict::NoCredit,
            OutcomeClass::ClientError | OutcomeClass::Transient | OutcomeClass::ProviderDown => {
                Verdict::Unreachable
            }
        }
    }
}

/// One key's check result.
#[derive(Debug, Clone, Serialize)]
pub struct KeyCheck {
    pub provider: String,
    pub key: Fingerprint,
    pub verdict: Verdict,
    /// The provider's reason or the transport error, secret-free.
    pub detail: Option<String>,
}

/// The request that checks a key: the dialect's unbilled call (a model
/// list, or OpenRouter's key info).
pub fn check_request(provider: &Provider) -> Result<Outbound, EndpointError> {
    let spec = &provider.spec;
    Ok(Outbound {
        method: Method::GET,
        url: provider.endpoint(spec.dialect.key_check_path(), None)?,
        headers: HeaderMap::new(),
        body: Bytes::new(),
        auth: spec.auth.clone(),
        dialect: spec.dialect,
    })
}

/// Checks one key and applies the result to its pool: a valid disabled key
/// is reinstated, an invalid one disabled, a limited one cooled.
pub async fn check_key(caller: &Caller, provider: &Provider, key: &ApiKey) -> KeyCheck {
    let verdict_of = |verdict, detail| KeyCheck {
        provider: provider.name().to_owned(),
        key: key.fingerprint().clone(),
        verdict,
        detail,
    };
    let request = match check_request(provider) {
        Ok(request) => request,
        Err(EndpointError::MissingBaseUrl(missing)) => {
            return verdict_of(
                Verdict::Unreachable,
                Some(format!("no base URL (set {})", missing.set)),
            )
        }
        Err(err) => return verdict_of(Verdict::Unreachable, Some(err.to_string())),
    };
    let (outcome, upstream) = caller
        .attempt(&request, key, provider.pool.clock().wall(), None)
        .await;
    let detail = match &upstream {
        Upstream::Failed { message, .. } => Some(message.clone()),
        Upstream::Response(response) if !response.status.is_success() => Some(
            outcome
                .reason
                .clone()
                .unwrap_or_else(|| format!("HTTP {}", response.status.as_u16())),
        ),
        Upstream::Response(_) => None,
    };
    apply(provider, key, &outcome).await;
    verdict_of(Verdict::of(outcome.class), detail)
}

async fn apply(provider: &Provider, key: &ApiKey, outcome: &Outcome) {
    match outcome.class {
        OutcomeClass::Success => {
            provider.pool.reinstate(key.fingerprint().id()).await;
        }
        OutcomeClass::KeyInvalid
        | OutcomeClass::KeyNoCredit
        | OutcomeClass::QuotaDaily
        | OutcomeClass::RateLimited => {
            provider.pool.report_late(key.fingerprint(), outcome).await;
        }
        _ => {}
    }
}

/// Checks every key of the chosen providers (all that have keys when
/// `only` is `None`), eight at a time; `progress` runs after each.
pub async fn check_all(
    registry: &Registry,
    caller: &Caller,
    only: Option<&str>,
    progress: impl Fn(&KeyCheck),
) -> Vec<KeyCheck> {
    let jobs: Vec<(Arc<Provider>, ApiKey)> = to_check(registry, only)
        .flat_map(|p| {
            p.pool
                .keys()
                .cloned()
                .map(|k| (p.clone(), k))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut results: Vec<(usize, KeyCheck)> =
        stream::iter(jobs.into_iter().enumerate())
            .map(|(order, (provider, key))| async move {
                (order, check_key(caller, &provider, &key).await)
            })
            .buffer_unordered(8)
            .inspect(|(_, result)| progress(result))
            .collect()
            .await;
    // Back in configuration order: providers as listed, keys as given.
    results.sort_by_key(|(order, _)| *order);
    results.into_iter().map(|(_, result)| result).collect()
}

/// The providers a check covers: those with keys, or just `only`.
pub fn to_check<'a>(
    registry: &'a Registry,
    only: Option<&'a str>,
) -> impl Iterator<Item = &'a Arc<Provider>> {
    registry
        .all()
        .iter()
        .filter(|p| p.spec.needs_keys())
        .filter(move |p| {
            only.is_none_or(|name| registry.get(name).is_some_and(|q| Arc::ptr_eq(p, q)))
        })
}

/// Re-checks every disabled key once, bringing back the ones that work again.
pub async fn recheck_disabled(registry: &Registry, caller: &Caller) {
    for provider in registry.all() {
        for key in provider.pool.disabled_keys() {
            let result = check_key(caller, provider, &key).await;
            if result.verdict == Verdict::Valid {
                tracing::info!(provider = %provider.name(), key = %result.key, "disabled key is valid again");
            }
        }
    }
}

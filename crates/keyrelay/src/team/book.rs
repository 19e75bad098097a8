//! Making, changing and deleting virtual keys, for the admin API and the
//! `keyrelay vkeys` command alike: checked first, then one atomic store
//! call, so a refused change writes nothing. A key's secret exists only in
//! what [`create`] returns; the store gets its hash.

use serde_json::{json, Value};

use super::secret::{self, NewSecret, NoRandomness};
use super::spec::{KeyChange, SpecError};
use super::windows::{rfc3339, Period, Window};
use crate::store::team::{Dimension, SpendCounts, TeamError, TeamStore, VirtualKey};

/// Why a change to the keys was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("no virtual key with id or name `{0}`")]
    NotFound(String),
    #[error("a virtual key named `{0}` exists already")]
    NameTaken(String),
    #[error("the state store failed: {0}; nothing was changed")]
    Store(TeamError),
    #[error(transparent)]
    NoRandomness(#[from] NoRandomness),
}

impl From<TeamError> for BookError {
    fn from(error: TeamError) -> Self {
        match error {
            TeamError::NameTaken(name) => BookError::NameTaken(name),
            TeamError::NotFound(id) => BookError::NotFound(id),
            other => BookError::Store(other),
        }
    }
}

/// A key just made, and its secret: shown once, kept nowhere.
#[derive(Debug)]
pub struct Made {
    pub key: VirtualKey,
    pub secret: NewSecret,
}

/// Makes a key from `change` (from [`KeyChange::from_json`] with `creating`).
pub async fn create(
    store: &dyn TeamStore,
    change: KeyChange,
    now_ms: u64,
) -> Result<Made, BookError> {
    let (secret, hash) = secret::mint()?;
    let mut key = VirtualKey {
        id: secret::new_id()?,
        hash: secret::hex(&hash),
        name: String::new(),
        team: None,
        routes: vec!["*".into()],
        rpm: None,
        tpm: None,
        budget: Default::default(),
        expires_at_ms: None,
        disabled_at_ms: None,
        created_at_ms: now_ms,
        updated_at_ms: now_ms,
    };
    apply(change, &mut key, now_ms);
    if key.name.is_empty() {
        return Err(SpecError {
            field: "name".into(),
            message: "required".into(),
        }
        .into());
    }
    store.create_key(&key).await?;
    tracing::info!(virtual_key = %key.name, id = %key.id, "virtual key created");
    Ok(Made { key, secret })
}

/// The key with id `which`, else the key named `which`.
pub async fn find(store: &dyn TeamStore, which: &str) -> Result<VirtualKey, BookError> {
    let keys = store.keys().await?;
    keys.iter()
        .find(|k| k.id == which)
        .or_else(|| keys.iter().find(|k| k.name == which))
        .cloned()
        .ok_or_else(|| BookError::NotFound(which.to_owned()))
}

/// Applies `change` to the key `which` names.
pub async fn change(
    store: &dyn TeamStore,
    which: &str,
    change: KeyChange,
    now_ms: u64,
) -> Result<VirtualKey, BookError> {
    let mut key = find(store, which).await?;
    apply(change, &mut key, now_ms);
    key.updated_at_ms = now_ms;
    store.replace_key(&key).await?;
    tracing::info!(virtual_key = %key.name, id = %key.id, disabled = key.disabled_at_ms.is_some(), "virtual key changed");
    Ok(key)
}

/// Deletes the key `which` names; requests with it are refused from now.
pub async fn delete(store: &dyn TeamStore, which: &str) -> Result<VirtualKey, BookError> {
    let key = find(store, which).await?;
    store.delete_key(&key.id).await?;
    tracing::info!(virtual_key = %key.name, id = %key.id, "virtual key deleted");
    Ok(key)
}

fn apply(change: KeyChange, key: &mut VirtualKey, now_ms: u64) {
    key.budget = change.budget_over(key.budget);
    let KeyChange {
        name,
        team,
        routes,
        rpm,
        tpm,
        budget: _,
        expires_at_ms,
        disabled,
    } = change;
    if let Some(name) = name {
        key.name = name;
    }
    if let Some(team) = team {
        key.team = team;
    }
    if let Some(routes) = routes {
        key.routes = routes;
    }
    if let Some(rpm) = rpm {
        key.rpm = rpm;
    }
    if let Some(tpm) = tpm {
        key.tpm = tpm;
    }
    if let Some(expires_at_ms) = expires_at_ms {
        key.expires_at_ms = expires_at_ms;
    }
    match disabled {
        Some(true) if key.disabled_at_ms.is_none() => key.disabled_at_ms = Some(now_ms),
        Some(false) => key.disabled_at_ms = None,
        _ => {}
    }
}

/// Spend of one key in the current day, week and month.
pub type WindowSpend = [SpendCounts; 3];

/// Every key's spend in its current windows, from the store's daily rows.
pub async fn window_spend(
    store: &dyn TeamStore,
    now_ms: u64,
) -> Result<std::collections::HashMap<String, WindowSpend>, TeamError> {
    let windows: Vec<Window> = Period::ALL
        .into_iter()
        .map(|p| Window::of(p, now_ms))
        .collect();
    let from = windows.iter().map(|w| w.starts_ms).min().unwrap_or(now_ms);
    let (from, to) = (
        super::windows::day_label(from),
        super::windows::day_label(now_ms),
    );
    let mut spend: std::collections::HashMap<String, WindowSpend> = Default::default();
    for row in store.spend(&from, &to).await? {
        if row.dimension != Dimension::Key {
            continue;
        }
        let slot = spend.entry(row.name.clone()).or_default();
        for (at, window) in windows.iter().enumerate() {
            if row.day >= super::windows::day_label(window.starts_ms) {
                slot[at].add(&row.counts);
            }
        }
    }
    Ok(spend)
}

pub fn usd(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

/// A key as the admin API, the dashboard and `keyrelay vkeys list` show it:
/// never its secret nor its hash.
pub fn view(key: &VirtualKey, spend: &WindowSpend, now_ms: u64) -> Value {
    let budget = [key.budget.day, key.budget.week, key.budget.month];
    let periods: serde_json::Map<String, Value> = Period::ALL
        .into_iter()
        .enumerate()
        .map(|(at, period)| {
            let counts = &spend[at];
            let window = Window::of(period, now_ms);
            (
                period.as_str().to_owned(),
                json!({
                    "usd": spend_usd(counts),
                    "unpriced_requests": counts.unpriced_requests,
                    "requests": counts.requests,
                    "tokens": counts.tokens(),
                    "budget_usd": budget[at].map(usd),
                    "window": window.label,
                    "resets_at": rfc3339(window.ends_ms),
                }),
            )
        })
        .collect();
    let expired = key.expires_at_ms.is_some_and(|at| at <= now_ms);
    let state = if key.disabled_at_ms.is_some() {
        "disabled"
    } else if expired {
        "expired"
    } else {
        "active"
    };
    json!({
        "id": key.id,
        "name": key.name,
        "team": key.team,
        "routes": key.routes,
        "rpm": key.rpm,
        "tpm": key.tpm,
        "budget_usd": {
            "day": key.budget.day.map(usd),
            "week": key.budget.week.map(usd),
            "month": key.budget.month.map(usd),
        },
        "expires_at": key.expires_at_ms.map(rfc3339),
        "state": state,
        "disabled": key.disabled_at_ms.is_some(),
        "created_at": rfc3339(key.created_at_ms),
        "updated_at": rfc3339(key.updated_at_ms),
        "spend": periods,
    })
}

/// What counts spent: `null` (unknown) when every request was unpriced,
/// else the priced requests' cost; `unpriced_requests` says what is missing.
pub fn spend_usd(counts: &SpendCounts) -> Value {
    if counts.requests > 0 && counts.unpriced_requests == counts.requests {
        Value::Null
    } else {
        json!(usd(counts.usd_nanos))
    }
}

#[cfg(test)]
mod tests;

//! `keyrelay keys` (the state of every pool) and `keyrelay keys check`.

use std::io::IsTerminal;

use keypool::{KeySnapshot, KeyState, OutcomeClass, StateStore};
use serde_json::json;

use super::output::{color_enabled, duration_ms, table, Tone};
use crate::call::Caller;
use crate::check::{check_all, to_check, KeyCheck, Verdict};
use crate::env::Env;
use crate::registry::Registry;

/// The key table: health from each pool after folding in the state store,
/// counters from the store's records (what every process recorded).
pub async fn status(
    registry: &Registry,
    store: &dyn StateStore,
    env: &dyn Env,
    as_json: bool,
) -> String {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for provider in registry
        .all()
        .iter()
        .filter(|p| p.spec.needs_keys() && !p.pool.is_empty())
    {
        provider.pool.refresh().await;
        let stored = store.load(provider.name()).await.unwrap_or_default();
        for mut key in provider.pool.snapshot() {
            if let Some(record) = stored.iter().find(|r| r.id == key.id) {
                key.requests = key.requests.max(record.requests);
                key.outcomes = record.outcomes;
                key.failures = record.outcomes.failures();
                key.last_class = record.last_class.or(key.last_class);
            }
            let failures: Vec<String> = OutcomeClass::ALL
                .iter()
                .filter(|c| **c != OutcomeClass::Success && key.outcomes.get(**c) > 0)
                .map(|c| format!("{}={}", c, key.outcomes.get(*c)))
                .collect();
            // A key cooling for some models only is shown cooling, with
            // the models as its scope; it still serves every other model.
            let view = CooldownView::of(&key);
            let (state, tone) = match view.state {
                KeyState::Available => ("available", Tone::Good),
                KeyState::Cooling => ("cooling", Tone::Warn),
                KeyState::Disabled => ("disabled", Tone::Bad),
            };
            rows.push(vec![
                (provider.name().to_owned(), Tone::Plain),
                (key.key.to_string(), Tone::Plain),
                (state.to_owned(), tone),
                (duration_ms(view.remaining_ms), Tone::Plain),
                (view.scope.clone().unwrap_or_else(|| "—".into()), Tone::Dim),
                (key.group.clone().unwrap_or_else(|| "—".into()), Tone::Dim),
                (key.requests.to_string(), Tone::Plain),
                (
                    if failures.is_empty() {
                        "—".into()
                    } else {
                        failures.join(" ")
                    },
                    Tone::Dim,
                ),
                (
                    key.last_class.map_or("—".into(), |c| c.to_string()),
                    Tone::Plain,
                ),
            ]);
            records.push(json!({
                "provider": provider.name(),
                "key": key.key,
                "state": view.state,
                "cooldown_remaining_ms": view.remaining_ms,
                "cooling_class": view.class,
                "cooldown_scope": view.scope,
                "model_cooldowns": key.model_cooldowns,
                "group": key.group,
                "disabled_reason": key.disabled_reason,
                "requests": key.requests,
                "failures": key.failures,
                "failures_by_class": OutcomeClass::ALL.iter().filter(|c| **c != OutcomeClass::Success).map(|c| (c.as_str().to_owned(), json!(key.outcomes.get(*c)))).collect::<serde_json::Map<_, _>>(),
                "last_class": key.last_class,
            }));
        }
    }
    if as_json {
        return format!("{:#}\n", json!({"keys": records}));
    }
    if rows.is_empty() {
        return "No keys configured. Set PROVIDER_API_KEYS (e.g. GEMINI_API_KEYS=key1,key2); `keyrelay providers` lists the variables.\n".into();
    }
    table(
        &[
            "PROVIDER", "KEY", "STATE", "COOLDOWN", "SCOPE", "GROUP", "REQUESTS", "FAILURES",
            "LAST",
        ],
        &rows,
        color_enabled(env),
    )
}

/// A key's cooldown as people read it: key-wide when there is one, else the
/// longest of its per-model cooldowns, scoped to those models.
struct CooldownView {
    state: KeyState,
    remaining_ms: u64,
    class: Option<OutcomeClass>,
    /// `key` for a key-wide cooldown, else the models (`model gemini-2.5-pro`).
    scope: Option<String>,
}

impl CooldownView {
    fn of(key: &KeySnapshot) -> CooldownView {
        let longest = key.model_cooldowns.iter().max_by_key(|c| c.remaining_ms);
        match (key.state, longest) {
            (KeyState::Cooling, _) => CooldownView {
                state: key.state,
                remaining_ms: key.cooldown_remaining_ms,
                class: key.cooling_class,
                scope: Some("key".into()),
            },
            (KeyState::Available, Some(longest)) => {
                let models: Vec<&str> = key
                    .model_cooldowns
                    .iter()
                    .map(|c| c.model.as_str())
                    .collect();
                CooldownView {
                    state: KeyState::Cooling,
                    remaining_ms: longest.remaining_ms,
                    class: Some(longest.class),
                    scope: Some(format!("model {}", models.join(","))),
                }
            }
            (state, _) => CooldownView {
                state,
                remaining_ms: 0,
                class: None,
                scope: None,
            },
        }
    }
}

/// Runs `keys check`, with a progress bar on a terminal.
pub async fn check(
    registry: &Registry,
    caller: &Caller,
    only: Option<&str>,
    env: &dyn Env,
    as_json: bool,
) -> (String, bool) {
    let total: u64 = to_check(registry, only).map(|p| p.pool.len() as u64).sum();
    let bar = (std::io::stderr().is_terminal() && !as_json).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} keys checked")
        {
            bar.set_style(style);
        }
        bar
    });
    let results = check_all(registry, caller, only, |_| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    })
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let all_valid = results.iter().all(|r| r.verdict == Verdict::Valid);
    (
        render_checks(&results, as_json, color_enabled(env)),
        all_valid,
    )
}

fn render_checks(results: &[KeyCheck], as_json: bool, color: bool) -> String {
    if as_json {
        return format!("{:#}\n", json!({"checks": results}));
    }
    if results.is_empty() {
        return "No keys to check.\n".into();
    }
    let rows: Vec<_> = results
        .iter()
        .map(|r| {
            let tone = match r.verdict {
                Verdict::Valid => Tone::Good,
                Verdict::RateLimited | Verdict::Unreachable => Tone::Warn,
                Verdict::Invalid | Verdict::NoCredit => Tone::Bad,
            };
            vec![
                (r.provider.clone(), Tone::Plain),
                (r.key.to_string(), Tone::Plain),
                (r.verdict.as_str().to_owned(), tone),
                (r.detail.clone().unwrap_or_default(), Tone::Dim),
            ]
        })
        .collect();
    table(&["PROVIDER", "KEY", "RESULT", "DETAIL"], &rows, color)
}

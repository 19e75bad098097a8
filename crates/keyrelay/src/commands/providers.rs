//! `keyrelay providers`: built-in and configured providers, their variables,
//! and whether keys are present (as counts, never values); a local server
//! `keyrelay serve` would leave out says how to enable it.

use serde_json::json;

use super::output::{color_enabled, table, Tone};
use crate::env::Env;
use crate::providers::ProviderSpec;
use crate::registry::Registry;

pub fn list(registry: &Registry, env: &dyn Env, as_json: bool) -> String {
    let mut rows = Vec::new();
    let mut records = Vec::new();
    for provider in registry.all() {
        let spec = &provider.spec;
        let keys = if spec.needs_keys() {
            provider.pool.len()
        } else {
            0
        };
        let (status, tone) = if provider.base_url().is_err() {
            (
                format!(
                    "needs {}",
                    spec.base_url_env.as_deref().unwrap_or("base_url")
                ),
                Tone::Warn,
            )
        } else if !spec.needs_keys() {
            ("no key needed".to_owned(), Tone::Dim)
        } else if keys == 0 {
            (
                format!("no keys: set {}", spec.key_envs.join(" or ")),
                Tone::Warn,
            )
        } else {
            (
                format!("{keys} key{}", if keys == 1 { "" } else { "s" }),
                Tone::Good,
            )
        };
        let set_vars: Vec<&str> = spec
            .key_envs
            .iter()
            .filter(|v| env.non_empty(v).is_some())
            .map(String::as_str)
            .collect();
        let names = model_names(spec);
        rows.push(vec![
            (spec.name.clone(), Tone::Plain),
            (spec.dialect.as_str().to_owned(), Tone::Plain),
            (names.join(" "), Tone::Plain),
            (
                if spec.key_envs.is_empty() {
                    "—".into()
                } else {
                    spec.key_envs.join(", ")
                },
                Tone::Plain,
            ),
            (status, tone),
        ]);
        records.push(json!({
            "name": spec.name,
            "dialect": spec.dialect.as_str(),
            "responses": spec.responses,
            "routable": true,
            "model_prefixes": names,
            "key_env": spec.key_envs,
            "key_env_set": set_vars,
            "keys": keys,
            "base_url": provider.base_url().ok(),
            "base_url_env": spec.base_url_env,
        }));
    }
    // Local servers this gateway would not serve (it is shared).
    for spec in registry.all_off() {
        let how = registry
            .off(&spec.name)
            .map(|off| off.how_to_enable())
            .unwrap_or_default();
        rows.push(vec![
            (spec.name.clone(), Tone::Plain),
            (spec.dialect.as_str().to_owned(), Tone::Plain),
            (model_names(spec).join(" "), Tone::Plain),
            ("—".into(), Tone::Plain),
            (format!("off: {how}"), Tone::Warn),
        ]);
        records.push(json!({
            "name": spec.name,
            "dialect": spec.dialect.as_str(),
            "model_prefixes": model_names(spec),
            "routable": false,
            "enable": how,
            "base_url_env": spec.base_url_env,
        }));
    }
    if as_json {
        return format!("{:#}\n", json!({"providers": records}));
    }
    table(
        &["PROVIDER", "DIALECT", "MODELS", "KEY VARIABLES", "KEYS"],
        &rows,
        color_enabled(env),
    )
}

/// How a model names the provider: `NAME@`, its aliases' and its prefixes.
fn model_names(spec: &ProviderSpec) -> Vec<String> {
    let mut names: Vec<String> = vec![format!("{}@", spec.name)];
    names.extend(spec.aliases.iter().map(|a| format!("{a}@")));
    names.extend(spec.prefixes.iter().cloned());
    names
}

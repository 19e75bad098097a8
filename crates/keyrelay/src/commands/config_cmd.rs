//! `keyrelay config check` (validate a file and say where each value came
//! from) and `keyrelay init` (write a commented sample config).

use std::path::Path;

use figment::Figment;
use serde_json::{json, Map, Value};

use crate::config::{Config, ConfigError};
use crate::env::Env;
use crate::gateway::ServeSettings;
use crate::registry::Registry;

/// Validates the configuration and lists every value with its source.
pub fn check(path: Option<&Path>, env: &dyn Env, as_json: bool) -> Result<String, ConfigError> {
    let figment = Config::figment(path)?;
    let config = Config::extract(&figment)?;
    // Local servers as `keyrelay serve` with this file would serve them.
    let local = ServeSettings::default().local_servers(&config, env);
    let registry = Registry::build(
        &config,
        env,
        std::sync::Arc::new(keypool::MemoryStore::new()),
        local,
    )?;
    crate::route::Fallbacks::new(&registry, Vec::new(), config.fallbacks.clone())
        .map_err(|e| ConfigError::Invalid(format!("invalid configuration: {e}")))?;
    crate::team::Prices::build(&config.prices)
        .map_err(|e| ConfigError::Invalid(format!("invalid configuration: {e}")))?;
    config
        .telemetry
        .resolve(env)
        .map_err(|e| ConfigError::Invalid(format!("invalid configuration: {e}")))?;
    let mut tree = serde_json::to_value(&config).unwrap_or(Value::Null);
    hide_keys(&mut tree);
    let mut leaves = Vec::new();
    flatten("", &tree, &mut leaves);
    let values: Vec<Value> = leaves
        .iter()
        .map(
            |(path, value)| json!({"name": path, "value": value, "source": source(&figment, path)}),
        )
        .collect();
    let mut providers: Vec<Value> = registry
        .all()
        .iter()
        .map(|p| {
            let from_env = p
                .spec
                .base_url_env
                .as_deref()
                .filter(|v| env.non_empty(v).is_some());
            let base_source = if config
                .providers
                .get(p.name())
                .is_some_and(|c| c.base_url.is_some())
            {
                "config file".to_owned()
            } else if let Some(var) = from_env {
                format!("environment ({var})")
            } else {
                "built-in default".to_owned()
            };
            json!({"provider": p.name(), "keys": if p.spec.needs_keys() { p.pool.len() } else { 0 },
                   "base_url": p.base_url().ok(), "base_url_source": base_source})
        })
        .collect();
    providers.extend(registry.all_off().iter().filter_map(|spec| {
        let off = registry.off(&spec.name)?;
        Some(json!({"provider": spec.name, "off": off.how_to_enable()}))
    }));
    if as_json {
        return Ok(format!(
            "{:#}\n",
            json!({"valid": true, "values": values, "providers": providers})
        ));
    }
    let mut out = format!(
        "{} is valid.\n\n",
        path.map_or_else(
            || "The default configuration".to_owned(),
            |p| p.display().to_string()
        )
    );
    let width = leaves.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for value in &values {
        let name = value["name"].as_str().unwrap_or_default();
        out.push_str(&format!(
            "{name:width$}  {}  ({})\n",
            value["value"],
            value["source"].as_str().unwrap_or_default()
        ));
    }
    out.push('\n');
    for p in &providers {
        if let Some(how) = p["off"].as_str() {
            let name = p["provider"].as_str().unwrap_or_default();
            out.push_str(&format!("{name}: off on a shared gateway ({how})\n"));
            continue;
        }
        out.push_str(&format!(
            "{}: {} key(s), base URL {} ({})\n",
            p["provider"].as_str().unwrap_or_default(),
            p["keys"],
            p["base_url"].as_str().unwrap_or("unset"),
            p["base_url_source"].as_str().unwrap_or_default()
        ));
    }
    Ok(out)
}

fn source(figment: &Figment, path: &str) -> String {
    match figment
        .find_metadata(path)
        .and_then(|meta| meta.source.as_ref())
    {
        Some(figment::Source::File(file)) => format!("file {}", file.display()),
        Some(figment::Source::Custom(custom)) => custom.clone(),
        // Defaults are serialised from code.
        Some(figment::Source::Code(_)) | None => "default".to_owned(),
        Some(other) => other.to_string(),
    }
}

/// Keys in the file are secrets: show how many, never what.
fn hide_keys(tree: &mut Value) {
    // A collector's headers may carry its token.
    let headers = tree
        .get_mut("telemetry")
        .and_then(|t| t.get_mut("headers"))
        .and_then(Value::as_object_mut);
    for value in headers.into_iter().flat_map(|h| h.values_mut()) {
        *value = json!("hidden");
    }
    if let Some(providers) = tree.get_mut("providers").and_then(Value::as_object_mut) {
        for provider in providers.values_mut() {
            if let Some(keys) = provider.get_mut("keys") {
                let n = keys.as_array().map_or(0, Vec::len);
                *keys = json!(format!("{n} key(s), hidden"));
            }
        }
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        Value::Object(_) => out.push((prefix.to_owned(), Value::Object(Map::new()))),
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

/// A commented sample configuration.
pub const SAMPLE: &str = include_str!("sample_config.toml");

/// Writes the sample to `path`; refuses to overwrite unless `force`.
pub fn init(path: &Path, force: bool) -> Result<String, String> {
    if path.exists() && !force {
        return Err(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        ));
    }
    std::fs::write(path, SAMPLE).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(format!(
        "Wrote {}. Check it with: keyrelay config check --config {}\n",
        path.display(),
        path.display()
    ))
}

#[cfg(test)]
mod tests;

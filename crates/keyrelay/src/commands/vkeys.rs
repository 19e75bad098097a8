//! `keyrelay vkeys create|list|set|disable|enable|delete`: virtual keys in
//! the state store, as a running gateway on the same store sees them (it
//! picks up a change within about a second). Checked as the admin API
//! checks them; a refused change writes nothing.

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::{json, Map, Value};

use super::output::{color_enabled, table, Tone};
use super::team_args::{KeyFields, StoreArgs, VkeysCommand};
use crate::config::Config;
use crate::env::Env;
use crate::store::team::TeamStore;
use crate::team::book::{self, BookError};
use crate::team::spec::{Context, KeyChange, SpecError};

/// The store and the provider names routes may use.
pub(super) struct Opened {
    pub team: Arc<dyn TeamStore>,
    providers: Vec<String>,
}

pub(super) fn open(args: &StoreArgs, env: &dyn Env) -> anyhow::Result<Opened> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(state) = args.state.clone() {
        config.state.store = Some(state);
    }
    let stores =
        crate::store::open_stores(&config.state, env).context("opening the state store")?;
    let local = crate::server::ServeSettings::default().local_servers(&config, env);
    let registry = crate::registry::Registry::build(&config, env, stores.keys, local)?;
    Ok(Opened {
        team: stores.team,
        providers: crate::ops::vkeys::route_names(&registry),
    })
}

fn now_ms() -> u64 {
    keypool::Clock::system().now_ms()
}

pub async fn run(command: VkeysCommand, env: &dyn Env) -> anyhow::Result<i32> {
    match command {
        VkeysCommand::Create {
            name,
            fields,
            store,
        } => {
            let opened = open(&store, env)?;
            let mut body = fields.to_json();
            body.insert("name".into(), json!(name));
            let change = checked(&opened, body, true)?;
            let made = book::create(opened.team.as_ref(), change, now_ms())
                .await
                .map_err(problem)?;
            if store.json {
                let view = book::view(&made.key, &Default::default(), now_ms());
                let answer =
                    json!({"id": made.key.id, "key": made.secret.reveal(), "virtual_key": view});
                println!("{answer:#}");
            } else {
                println!(
                    "Made virtual key `{}` (id {}). Its secret, shown this once (keyrelay keeps only its hash):\n\n  {}\n\nClients send it as x-api-key or Authorization: Bearer (Gemini clients: x-goog-api-key or ?key=).",
                    made.key.name,
                    made.key.id,
                    made.secret.reveal()
                );
            }
            Ok(0)
        }
        VkeysCommand::List { store } => {
            let opened = open(&store, env)?;
            print!("{}", list(&opened, store.json, env).await?);
            Ok(0)
        }
        VkeysCommand::Set {
            key,
            name,
            fields,
            store,
        } => {
            let opened = open(&store, env)?;
            let mut body = fields.to_json();
            if let Some(name) = name {
                body.insert("name".into(), json!(name));
            }
            let change = checked(&opened, body, false)?;
            changed(&opened, &key, change, "changed", store.json).await
        }
        VkeysCommand::Disable { key, store } => {
            let opened = open(&store, env)?;
            let change = KeyChange {
                disabled: Some(true),
                ..KeyChange::default()
            };
            changed(&opened, &key, change, "disabled", store.json).await
        }
        VkeysCommand::Enable { key, store } => {
            let opened = open(&store, env)?;
            let change = KeyChange {
                disabled: Some(false),
                ..KeyChange::default()
            };
            changed(&opened, &key, change, "enabled", store.json).await
        }
        VkeysCommand::Delete { key, store } => {
            let opened = open(&store, env)?;
            let deleted = book::delete(opened.team.as_ref(), &key)
                .await
                .map_err(problem)?;
            if store.json {
                println!(
                    "{:#}",
                    json!({"deleted": {"id": deleted.id, "name": deleted.name}})
                );
            } else {
                println!(
                    "Deleted virtual key `{}` (id {}); gateways on this store refuse it within about a second.",
                    deleted.name, deleted.id
                );
            }
            Ok(0)
        }
    }
}

async fn changed(
    opened: &Opened,
    which: &str,
    change: KeyChange,
    what: &str,
    as_json: bool,
) -> anyhow::Result<i32> {
    let key = book::change(opened.team.as_ref(), which, change, now_ms())
        .await
        .map_err(problem)?;
    if as_json {
        println!("{:#}", book::view(&key, &Default::default(), now_ms()));
    } else {
        println!(
            "Virtual key `{}` (id {}) {what}; gateways on this store follow within about a second.",
            key.name, key.id
        );
    }
    Ok(0)
}

/// The change flags ask for, checked as the admin API checks a body, with
/// errors naming the flag.
fn checked(opened: &Opened, body: Map<String, Value>, creating: bool) -> anyhow::Result<KeyChange> {
    let cx = Context {
        providers: &opened.providers,
        now_ms: now_ms(),
    };
    KeyChange::from_json(&Value::Object(body), creating, &cx).map_err(|e| problem(e.into()))
}

/// A refusal in the command's words: a field is named by its flag.
fn problem(error: BookError) -> anyhow::Error {
    match error {
        BookError::Spec(SpecError { field, message }) => {
            anyhow::anyhow!("{}: {message}; nothing was changed", flag_of(&field))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

fn flag_of(field: &str) -> String {
    match field {
        "budget_usd.day" => "--budget-day".into(),
        "budget_usd.week" => "--budget-week".into(),
        "budget_usd.month" => "--budget-month".into(),
        "expires_at" => "--expires".into(),
        "routes" => "--route".into(),
        f if f.starts_with("routes[") => "--route".into(),
        "name" => "NAME".into(),
        other => format!("--{other}"),
    }
}

impl KeyFields {
    /// The flags as the admin API's JSON body: `none` is `null`, numbers
    /// stay numbers, so one set of checks serves both.
    fn to_json(&self) -> Map<String, Value> {
        let value = |text: &str| -> Value {
            match text.trim() {
                "none" | "null" | "never" => Value::Null,
                t => serde_json::from_str::<serde_json::Number>(t)
                    .map(Value::Number)
                    .unwrap_or_else(|_| Value::String(t.to_owned())),
            }
        };
        let mut body = Map::new();
        if let Some(team) = &self.team {
            let team = match team.trim() {
                "none" => Value::Null,
                name => json!(name),
            };
            body.insert("team".into(), team);
        }
        if !self.routes.is_empty() {
            body.insert("routes".into(), json!(self.routes));
        }
        for (field, text) in [
            ("rpm", &self.rpm),
            ("tpm", &self.tpm),
            ("expires_at", &self.expires),
        ] {
            if let Some(text) = text {
                body.insert(field.into(), value(text));
            }
        }
        let mut budget = Map::new();
        for (period, text) in [
            ("day", &self.budget_day),
            ("week", &self.budget_week),
            ("month", &self.budget_month),
        ] {
            if let Some(text) = text {
                budget.insert(period.into(), value(text));
            }
        }
        if !budget.is_empty() {
            body.insert("budget_usd".into(), Value::Object(budget));
        }
        body
    }
}

/// Every key as a table (or JSON), with its spend this day, week and month.
async fn list(opened: &Opened, as_json: bool, env: &dyn Env) -> anyhow::Result<String> {
    let store = opened.team.as_ref();
    let now_ms = now_ms();
    let keys = store.keys().await.map_err(|e| problem(e.into()))?;
    let spend = book::window_spend(store, now_ms)
        .await
        .map_err(|e| problem(e.into()))?;
    let views: Vec<Value> = keys
        .iter()
        .map(|k| book::view(k, &spend.get(&k.id).copied().unwrap_or_default(), now_ms))
        .collect();
    if as_json {
        return Ok(format!("{:#}\n", json!({"virtual_keys": views})));
    }
    if views.is_empty() {
        return Ok("No virtual keys yet. Make one with `keyrelay vkeys create NAME`.\n".into());
    }
    let text = |v: &Value| match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let money = |period: &Value| {
        let spent = match &period["usd"] {
            Value::Null => "unknown".to_owned(),
            v => format!("${:.4}", v.as_f64().unwrap_or(0.0)),
        };
        match period["budget_usd"].as_f64() {
            Some(budget) => format!("{spent} / ${budget}"),
            None => spent,
        }
    };
    let rows: Vec<Vec<(String, Tone)>> = views
        .iter()
        .map(|v| {
            let state = text(&v["state"]);
            let tone = match state.as_str() {
                "active" => Tone::Good,
                _ => Tone::Bad,
            };
            let routes: Vec<String> = v["routes"]
                .as_array()
                .map(|r| r.iter().map(text).collect())
                .unwrap_or_default();
            vec![
                (text(&v["id"]), Tone::Dim),
                (text(&v["name"]), Tone::Plain),
                (text(&v["team"]), Tone::Plain),
                (state, tone),
                (routes.join(" "), Tone::Dim),
                (
                    format!("{} / {}", text(&v["rpm"]), text(&v["tpm"])),
                    Tone::Plain,
                ),
                (money(&v["spend"]["day"]), Tone::Plain),
                (money(&v["spend"]["week"]), Tone::Plain),
                (money(&v["spend"]["month"]), Tone::Plain),
                (text(&v["expires_at"]), Tone::Dim),
            ]
        })
        .collect();
    Ok(table(
        &[
            "ID",
            "NAME",
            "TEAM",
            "STATE",
            "ROUTES",
            "RPM / TPM",
            "TODAY",
            "THIS WEEK",
            "THIS MONTH",
            "EXPIRES",
        ],
        &rows,
        color_enabled(env),
    ))
}

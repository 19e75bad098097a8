//! The flags of `keyrelay vkeys` and `keyrelay spend`.

use std::path::PathBuf;

use clap::Subcommand;

/// Where the keys and spend live (as `keyrelay keys` reads them).
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// TOML config file (its [state] store, and its providers for routes).
    #[arg(long, env = "KEYRELAY_CONFIG")]
    pub config: Option<PathBuf>,
    /// State store: memory, sqlite, sqlite:PATH or redis://HOST:PORT[/DB]
    /// (default: state.store from the config file, else SQLite under $XDG_STATE_HOME).
    #[arg(long, env = "KEYRELAY_STATE", value_name = "STORE")]
    pub state: Option<crate::store::StateSpec>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct VkeysArgs {
    #[command(subcommand)]
    pub command: VkeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum VkeysCommand {
    /// Make a virtual key; its secret is printed this once.
    #[command(
        after_help = "Examples:\n  keyrelay vkeys create alice --team research --route 'gemini@*' --budget-day 5\n  keyrelay vkeys create ci-bot --route openai@gpt-4.1-mini --rpm 30 --expires 2026-01-01T00:00:00Z"
    )]
    Create {
        /// Unique name, shown in logs, metrics and reports.
        name: String,
        #[command(flatten)]
        fields: KeyFields,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every virtual key, with its spend this day, week and month (never a secret).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a key's limits, routes, team, name or expiry; `none` clears one.
    #[command(
        after_help = "Examples:\n  keyrelay vkeys set alice --budget-month 100 --budget-day none\n  keyrelay vkeys set 3f9c0a1b2c4d --route 'gemini@*' --route 'openai@*'"
    )]
    Set {
        /// The key's id or name.
        key: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: KeyFields,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Refuse the key's requests until it is enabled again.
    Disable {
        /// The key's id or name.
        key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Serve the key's requests again.
    Enable {
        /// The key's id or name.
        key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete the key: its requests are refused on every replica within
    /// about a second. Its spend stays in the reports.
    Delete {
        /// The key's id or name.
        key: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// A key's settings, as flags; each takes `none` to clear it (`set`).
#[derive(Debug, Default, clap::Args)]
pub struct KeyFields {
    /// The key's team.
    #[arg(long)]
    pub team: Option<String>,
    /// A model it may use: a glob on PROVIDER@MODEL or on the name a client
    /// sends (repeatable; default every model).
    #[arg(long = "route", value_name = "GLOB")]
    pub routes: Vec<String>,
    /// Requests per minute, across every replica.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub rpm: Option<String>,
    /// Tokens per minute, across every replica.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub tpm: Option<String>,
    /// USD per UTC day.
    #[arg(long, value_name = "USD", allow_hyphen_values = true)]
    pub budget_day: Option<String>,
    /// USD per ISO week (from Monday 00:00 UTC).
    #[arg(long, value_name = "USD", allow_hyphen_values = true)]
    pub budget_week: Option<String>,
    /// USD per calendar month (UTC).
    #[arg(long, value_name = "USD", allow_hyphen_values = true)]
    pub budget_month: Option<String>,
    /// When it stops working: RFC 3339 (2026-01-01T00:00:00Z) or Unix seconds.
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SpendArgs {
    /// What to sum by: key, team, model, provider or provider_key.
    #[arg(long, default_value = "key")]
    pub by: String,
    /// First UTC day (YYYY-MM-DD; default today).
    #[arg(long)]
    pub from: Option<String>,
    /// Last UTC day (YYYY-MM-DD; default today).
    #[arg(long)]
    pub to: Option<String>,
    /// CSV instead of a table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

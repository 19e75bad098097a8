//! The informational commands: `keys`, `keys check`, `providers`,
//! `config check`, `init`. Each prints a table for people or JSON (`--json`).
//! And `health`, which asks a running gateway whether it is up.

pub mod config_cmd;
pub mod health;
pub mod keys;
pub mod output;
pub mod providers;

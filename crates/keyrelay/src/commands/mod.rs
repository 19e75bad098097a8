//! The informational commands: `keys`, `keys check`, `providers`,
//! `config check`, `init`. Each prints a table for people or JSON (`--json`).

pub mod config_cmd;
pub mod keys;
pub mod output;
pub mod providers;

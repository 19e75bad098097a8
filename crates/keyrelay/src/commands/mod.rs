//! The informational commands: `keys`, `keys check`, `providers`,
//! `config check`, `init`; and a team's: `vkeys`, `spend`. Each prints a table for people or JSON (`--json`).

pub mod config_cmd;
pub mod keys;
pub mod output;
pub mod providers;
pub mod spend;
pub mod vkeys;

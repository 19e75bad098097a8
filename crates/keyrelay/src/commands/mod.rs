//! The informational commands: `keys`, `keys check`, `providers`,
//! `config check`, `init`; a team's: `vkeys`, `spend`; and `health`, which
//! asks a running gateway whether it is up. Each prints a table for people
//! or JSON (`--json`).

pub mod config_cmd;
pub mod health;
pub mod keys;
pub mod output;
pub mod providers;
pub mod spend;
pub mod team_args;
pub mod vkeys;

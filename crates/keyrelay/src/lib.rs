//! keyrelay: an LLM gateway that rotates over several API keys per provider.
//!
//! Layers, each calling only the one below (DESIGN §1): [`front`] (HTTP API)
//! → [`route`] (model → provider) → dialect (the `dialects` crate) →
//! [`transport`] + the `keypool` crate (one attempt per key, classified by
//! [`classify`]) → provider.
#![forbid(unsafe_code)]

pub mod check;
pub mod classify;
pub mod cli;
mod commands;
pub mod config;
pub mod env;
pub mod front;
pub mod launcher;
pub mod providers;
pub mod redact;
pub mod registry;
pub mod route;
pub mod server;
pub mod store;
pub mod transport;

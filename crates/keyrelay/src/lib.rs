//! keyrelay: an LLM gateway that rotates over several API keys per provider.
//!
//! Layers, each calling only the ones below (DESIGN §1): [`front`] (HTTP
//! API: parse, route, call, render) → [`route`] (model → provider) →
//! [`call`] (the key pool's executor over attempts, whole-body reading, the
//! stream loop; answers classified by [`classify`]) → [`transport`] (one
//! HTTP exchange with a pooled key) → provider. [`dialect`] describes each
//! API once (translator, errors, key check) for every layer.
#![forbid(unsafe_code)]

mod accept;
pub mod call;
pub mod check;
pub mod classify;
pub mod cli;
mod commands;
pub mod config;
pub mod dialect;
pub mod env;
pub mod front;
pub mod keys_file;
pub mod launcher;
pub mod providers;
pub mod redact;
pub mod registry;
pub mod route;
pub mod server;
pub mod store;
pub mod transport;

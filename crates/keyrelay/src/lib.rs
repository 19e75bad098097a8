//! keyrelay: an LLM gateway that rotates over several API keys per provider.
//!
//! Rooms, each importing only the ones below it (DESIGN §1, §5):
//!
//! - [`server`]: the HTTP service — accept loop, client limits, the front
//!   door (access tokens, admission, observation) and the route table that
//!   joins the client APIs and operations;
//! - [`front`]: the client APIs, one generic front over the descriptions in
//!   [`dialects::client`]: parse, route, call, render;
//! - [`ops`]: operations — admin API, dashboard, request log, access log,
//!   metrics;
//! - [`gateway`]: the running gateway (configuration, registry, pools,
//!   routing, the caller) and its reload;
//! - [`route`] (model → provider, fallback chains) over [`registry`];
//! - [`call`]: one request against its targets — the fallback loop, the key
//!   pool's executor over attempts, whole-body reading, the stream loop,
//!   keyrelay's own errors and `x-keyrelay-*` headers;
//! - [`transport`]: one HTTP exchange with a pooled key;
//! - [`telemetry`]: OpenTelemetry traces (off by default): the trace
//!   context a request carries down to its attempts, and the OTLP exporter;
//! - [`dialect`]: each provider API described once, with its error
//!   classification ([`classify`]);
//! - [`team`]: virtual keys, prices, spend and budgets (a team's gateway);
//! - [`store`]: key state, virtual keys and spend in SQLite or Redis.
#![forbid(unsafe_code)]

pub mod call;
pub mod check;
pub mod classify;
pub mod cli;
mod commands;
pub mod config;
pub mod dialect;
pub mod env;
pub mod error;
pub mod front;
pub mod gateway;
pub mod keys_file;
pub mod launcher;
pub mod ops;
pub mod providers;
pub mod redact;
pub mod registry;
pub mod route;
pub mod server;
pub mod store;
pub mod team;
pub mod telemetry;
pub mod transport;

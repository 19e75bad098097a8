//! Whether a virtual key may send a request: its routes, its budgets and
//! rate limits. An admitted request holds its place in the key's meter
//! until its answer is priced ([`Admitted`] is settled by the request
//! record, or released when dropped).

use std::sync::Arc;

use http::StatusCode;

use super::directory::Grant;
use super::meter::{Estimate, Over};
use super::windows::rfc3339;
use crate::error::{ApiError, ErrorKind};
use crate::route::glob_match;

/// An admitted request's hold on its key's meter.
#[derive(Debug)]
pub struct Admitted {
    pub grant: Arc<Grant>,
    held: Estimate,
    open: bool,
}

impl Admitted {
    pub fn new(grant: Arc<Grant>, held: Estimate) -> Admitted {
        Admitted {
            grant,
            held,
            open: true,
        }
    }

    /// Ends the hold with what the request cost; whether the key is now
    /// near a budget.
    pub fn settle(mut self, nanos: Option<u64>, tokens: u64, now_ms: u64) -> bool {
        self.open = false;
        self.grant.meter.settle(self.held, nanos, tokens, now_ms)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.open {
            self.grant.meter.release(self.held);
        }
    }
}

/// An [`Admitted`] hold on its way from the front to the request record,
/// in the response's extensions (which need `Clone`).
#[derive(Debug, Clone)]
pub struct Held(Arc<std::sync::Mutex<Option<Admitted>>>);

impl Held {
    pub fn new(admitted: Admitted) -> Held {
        Held(Arc::new(std::sync::Mutex::new(Some(admitted))))
    }

    pub fn take(self) -> Option<Admitted> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Why a virtual key may not send a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The model is not among its routes.
    Route {
        model: String,
    },
    /// The key has a USD budget and the model has no price.
    Unpriced {
        model: String,
    },
    Over(Over),
}

impl Grant {
    /// Whether the key's routes allow `client_model` (as the client named
    /// it) routed to `model` on `provider`.
    pub fn allows(&self, client_model: &str, provider: &str, model: &str) -> bool {
        let routes = &self.key.routes;
        if routes.iter().any(|r| r == "*") {
            return true;
        }
        let routed = format!("{provider}@{model}");
        routes
            .iter()
            .any(|glob| glob_match(glob, client_model) || glob_match(glob, &routed))
    }

    /// Whether the key may reach every model of `provider` (the native
    /// passthrough, where keyrelay does not read the model).
    pub fn allows_provider(&self, provider: &str) -> bool {
        self.key.routes.iter().any(|glob| {
            glob == "*"
                || glob
                    .split_once('@')
                    .is_some_and(|(p, m)| m == "*" && glob_match(p, provider))
        })
    }

    /// The refusal when `admitted` says no, in words the client reads.
    pub fn refusal(&self, refused: &Refused, now_ms: u64) -> ApiError {
        let name = &self.name;
        match refused {
            Refused::Route { model } => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorKind::Permission,
                format!(
                    "keyrelay: virtual key `{name}` may not use model `{model}`; its allowed routes are: {}",
                    self.key.routes.join(", ")
                ),
            ),
            Refused::Unpriced { model } => ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorKind::Permission,
                format!(
                    "keyrelay: virtual key `{name}` has a USD budget, and `{model}` has no price, so its spend could not be counted; an operator can set [prices.\"{model}\"] in the config file"
                ),
            ),
            Refused::Over(over) => over_limit(name, over, now_ms),
        }
    }
}

fn usd(nanos: u64) -> String {
    let usd = nanos as f64 / 1e9;
    if usd >= 100.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

/// A 429 naming the limit, what is used, and when there is room again.
fn over_limit(name: &str, over: &Over, now_ms: u64) -> ApiError {
    let (message, retry_after_ms) = match over {
        Over::Budget {
            period,
            spent_nanos,
            limit_nanos,
            resets_at_ms,
        } => (
            format!(
                "keyrelay: virtual key `{name}` has reached its {} budget: {} spent of {}; it resets at {} (UTC)",
                period.adjective(),
                usd(*spent_nanos),
                usd(*limit_nanos),
                rfc3339(*resets_at_ms)
            ),
            Some(resets_at_ms.saturating_sub(now_ms)),
        ),
        Over::Rpm {
            limit,
            retry_after_ms,
        } => (
            format!("keyrelay: virtual key `{name}` has reached its limit of {limit} requests per minute"),
            Some(*retry_after_ms),
        ),
        Over::Tpm {
            limit,
            retry_after_ms,
        } => (
            format!("keyrelay: virtual key `{name}` has reached its limit of {limit} tokens per minute"),
            Some(*retry_after_ms),
        ),
    };
    let mut error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorKind::RateLimit, message);
    error.retry_after = retry_after_ms.map(|ms| ms.div_ceil(1000).max(1));
    error
}

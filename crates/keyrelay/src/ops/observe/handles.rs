//! Metric handles by label values, so recording a request updates handles
//! already registered instead of looking them up with freshly built labels.

use std::collections::HashMap;

use keypool::OutcomeClass;

use crate::call::report::ContinuationOutcome;

thread_local! {
    /// One set per thread. Labels come from the config (fronts, providers,
    /// keys) and HTTP statuses, so these maps stay small.
    pub(super) static HANDLES: std::cell::RefCell<Handles> = std::cell::RefCell::default();
}

/// A handful of fronts and providers: a linear search by name beats hashing.
#[derive(Default)]
pub(super) struct Handles {
    pub fronts: Vec<FrontHandles>,
    pub providers: Vec<ProviderHandles>,
}

pub(super) struct FrontHandles {
    name: &'static str,
    pub attempts: metrics::Histogram,
    pub overhead: metrics::Histogram,
}

pub(super) struct ProviderHandles {
    name: String,
    requests: HashMap<(&'static str, u16), metrics::Counter>,
    pub upstream: metrics::Histogram,
    pub first_byte: metrics::Histogram,
    rotations: HashMap<OutcomeClass, metrics::Counter>,
    stream_failures: HashMap<(&'static str, OutcomeClass), metrics::Counter>,
    continuations: HashMap<ContinuationOutcome, metrics::Counter>,
    tokens: HashMap<String, [metrics::Counter; 2]>,
}

impl Handles {
    pub fn front_in<'a>(
        fronts: &'a mut Vec<FrontHandles>,
        front: &'static str,
    ) -> &'a FrontHandles {
        let at = match fronts.iter().position(|f| f.name == front) {
            Some(at) => at,
            None => {
                fronts.push(FrontHandles {
                    name: front,
                    attempts: metrics::histogram!("keyrelay_request_attempts", "front" => front),
                    overhead: metrics::histogram!("keyrelay_overhead_seconds", "front" => front),
                });
                fronts.len() - 1
            }
        };
        &fronts[at]
    }

    pub fn provider_in<'a>(
        providers: &'a mut Vec<ProviderHandles>,
        provider: &str,
    ) -> &'a mut ProviderHandles {
        let at = match providers.iter().position(|p| p.name == provider) {
            Some(at) => at,
            None => {
                let name = provider.to_owned();
                providers.push(ProviderHandles {
                    upstream: metrics::histogram!("keyrelay_upstream_seconds", "provider" => name.clone()),
                    first_byte: metrics::histogram!("keyrelay_stream_first_byte_seconds", "provider" => name.clone()),
                    name,
                    requests: HashMap::new(),
                    rotations: HashMap::new(),
                    stream_failures: HashMap::new(),
                    continuations: HashMap::new(),
                    tokens: HashMap::new(),
                });
                providers.len() - 1
            }
        };
        &mut providers[at]
    }
}

impl ProviderHandles {
    pub fn requests(&mut self, front: &'static str, status: u16) -> &metrics::Counter {
        let provider = &self.name;
        self.requests.entry((front, status)).or_insert_with(|| {
            metrics::counter!(
                "keyrelay_requests_total",
                "front" => front,
                "provider" => provider.clone(),
                "status" => status.to_string(),
            )
        })
    }

    pub fn rotations(&mut self, class: OutcomeClass) -> &metrics::Counter {
        let provider = &self.name;
        self.rotations.entry(class).or_insert_with(|| {
            metrics::counter!(
                "keyrelay_rotations_total",
                "provider" => provider.clone(),
                "class" => class.as_str(),
            )
        })
    }

    /// A stream that ended in an error after its head (its status says 200).
    pub fn stream_failure(
        &mut self,
        front: &'static str,
        class: OutcomeClass,
    ) -> &metrics::Counter {
        let provider = &self.name;
        self.stream_failures
            .entry((front, class))
            .or_insert_with(|| {
                metrics::counter!(
                    "keyrelay_stream_failures_total",
                    "front" => front,
                    "provider" => provider.clone(),
                    "class" => class.as_str(),
                )
            })
    }

    /// A broken stream keyrelay asked another key to finish, and what came of it.
    pub fn continuation(&mut self, outcome: ContinuationOutcome) -> &metrics::Counter {
        let provider = &self.name;
        self.continuations.entry(outcome).or_insert_with(|| {
            metrics::counter!(
                "keyrelay_stream_continuations_total",
                "provider" => provider.clone(),
                "outcome" => outcome.as_str(),
            )
        })
    }

    pub fn tokens(&mut self, key_id: &str) -> &[metrics::Counter; 2] {
        if !self.tokens.contains_key(key_id) {
            let counter = |direction: &'static str| {
                metrics::counter!(
                    "keyrelay_tokens_total",
                    "provider" => self.name.clone(),
                    "key_id" => key_id.to_owned(),
                    "direction" => direction,
                )
            };
            let pair = [counter("input"), counter("output")];
            self.tokens.insert(key_id.to_owned(), pair);
        }
        &self.tokens[key_id]
    }
}

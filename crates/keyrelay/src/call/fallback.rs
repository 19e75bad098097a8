//! Serving a request over its fallback chain: the routed provider first,
//! then each fallback target in turn while the one before could not serve
//! ([`cannot_serve`]: it refused, is down, or every attempt failed in a class
//! another key might have fixed). A success or a client error ends the
//! chain: it is the request's answer. A stream is held by the call layer
//! until its first event, so a stream that fails before anything reached
//! the client falls back too; once bytes went out, it no longer can.
//!
//! A front describes each target as a [`Leg`] — the upstream request, and
//! how an answer reaches the client in the client's own API — and hands the
//! legs, in order, to [`serve`].

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use keypool::{Fingerprint, OutcomeClass};

use super::attempt_log::AttemptLog;
use super::exhausted::{exhausted, Failed};
use super::trail::{decorate, transport_failure, Trail};
use super::{cannot_serve, Caller, RequestFacts, Upstream, UpstreamResponse};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::registry::Provider;
use crate::transport::Outbound;

/// Where a leg goes and what it sends.
pub struct Target {
    pub provider: Arc<Provider>,
    /// What the pool weighs: the upstream model (also `x-keyrelay-model`,
    /// when known) and the client's session.
    pub facts: RequestFacts,
    pub outbound: Outbound,
}

/// One target of a request, ready to send, and how its answer reaches the
/// client.
pub trait Leg {
    fn target(&self) -> &Target;
    /// The client's response to an upstream answer that settled the
    /// request: a success, or an error no other target would fix.
    fn answer(
        self,
        caller: &Caller,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        class: OutcomeClass,
    ) -> Response;
}

/// Calls each leg in turn until one settles the request; renders its
/// answer, or keyrelay's exhaustion error (in `shape`) listing every
/// attempt. A leg that cannot be built ends the request if it is the
/// first (the client's request is at fault); a later one is skipped.
pub async fn serve<L: Leg>(
    caller: &Caller,
    shape: Dialect,
    legs: impl IntoIterator<Item = Result<L, ApiError>>,
) -> Response {
    let mut log = AttemptLog::default();
    let mut failed: Vec<Failed> = Vec::new();
    for (fallback, leg) in legs.into_iter().enumerate() {
        let leg = match leg {
            Ok(leg) => leg,
            Err(error) if fallback == 0 => return error.in_shape(shape).into_response(),
            Err(error) => {
                tracing::warn!(fallback, error = %error.message, "fallback target skipped: the request cannot be sent there");
                continue;
            }
        };
        let Target {
            provider,
            facts,
            outbound,
        } = leg.target();
        let (provider, model) = (provider.clone(), facts.model.clone());
        crate::telemetry::target(fallback, model.as_deref());
        let result = caller.call(&provider, outbound, facts).await;
        match &result {
            Ok(finished) => log.extend(provider.name(), &finished.log),
            Err(refused) => log.extend(provider.name(), &refused.log),
        }
        let settles = !cannot_serve(&result);
        let finished = match result {
            Ok(finished) if settles => finished,
            result => {
                tracing::info!(provider = %provider.name(), fallback, "provider could not serve the request");
                failed.push(Failed {
                    provider,
                    model,
                    fallback,
                    result,
                });
                continue;
            }
        };
        let (key, class) = (finished.key, finished.class);
        let response = match finished.value {
            Upstream::Response(upstream) => leg.answer(caller, upstream, &key, class),
            Upstream::Failed { failure, message } => {
                let (status, kind) = transport_failure(failure);
                ApiError::new(status, kind, format!("keyrelay: {message}"))
                    .in_shape(shape)
                    .into_response()
            }
        };
        let trail = Trail {
            provider: &provider,
            model: model.as_deref(),
            fallback,
            key: Some(&key),
            log: &log,
        };
        return decorate(response, &trail, class);
    }
    let error = exhausted(&failed, &log).in_shape(shape);
    tracing::info!(attempts = %log.compact(), "no target could serve the request");
    let Some(last) = failed.last() else {
        return error.into_response();
    };
    let key = match &last.result {
        Ok(finished) => Some(&finished.key),
        Err(_) => None,
    };
    let trail = Trail {
        provider: &last.provider,
        model: last.model.as_deref(),
        fallback: last.fallback,
        key,
        log: &log,
    };
    let class = match &last.result {
        Ok(finished) => finished.class,
        Err(_) => OutcomeClass::Success,
    };
    decorate(error.into_response(), &trail, class)
}

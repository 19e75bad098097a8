//! Token counting (`/v1/messages/count_tokens`, Gemini's `:countTokens`),
//! one path for every client API. A provider that speaks the client's API
//! counts the client's own request (forwarded as is); any other counts the
//! hub request with its own counter where its dialect has one (Anthropic
//! `count_tokens`, Gemini `countTokens`); the rest, or a counter that fails,
//! get a local estimate marked `x-keyrelay-token-count: estimate`. The
//! answer is in the client's shape. Token counting does not fall back.

use axum::response::{IntoResponse, Response};
use dialects::count::estimate_tokens;
use dialects::ProviderRequest;
use http::HeaderValue;
use keypool::OutcomeClass;

use super::request::ClientCall;
use super::translated::provider_call;
use crate::call::attempt_log::AttemptLog;
use crate::call::trail::{decorate, Trail};
use crate::call::{RequestFacts, Upstream, UpstreamBody};
use crate::gateway::Gateway;
use crate::registry::Provider;
use crate::route::Route;

pub async fn count(gateway: &Gateway, call: &ClientCall<'_>, route: Route) -> Response {
    let api = call.api;
    let shape = api.error_shape();
    let spec = &route.provider.spec;
    if api.native_for(spec.dialect, spec.responses) {
        return match call.forward_leg(route) {
            Ok(leg) => crate::call::serve(&gateway.caller, shape, [Ok(leg)]).await,
            Err(error) => error.in_shape(shape).into_response(),
        };
    }
    let hub = match api.count_to_hub(&call.request(), &call.head) {
        Ok(hub) => hub,
        Err(error) => {
            return crate::error::ApiError::from(error)
                .in_shape(shape)
                .into_response()
        }
    };
    let provider = &route.provider;
    if let Some(counted) = spec.dialect.count_tokens_request(&hub, &route.model) {
        match counted_upstream(gateway, provider, counted, &route.model).await {
            Ok(tokens) => {
                let response = axum::Json(api.count_body(tokens)).into_response();
                let trail = Trail {
                    provider,
                    model: Some(&route.model),
                    fallback: 0,
                    key: None,
                    log: &AttemptLog::default(),
                };
                return decorate(response, &trail, OutcomeClass::Success);
            }
            Err(reason) => {
                tracing::debug!(provider = %provider.name(), %reason, "the provider's token count failed; estimating locally")
            }
        }
    }
    let mut response = axum::Json(api.count_body(estimate_tokens(&hub))).into_response();
    response.headers_mut().insert(
        "x-keyrelay-token-count",
        HeaderValue::from_static("estimate"),
    );
    response
}

/// The provider's own count, through the key pool like any request.
async fn counted_upstream(
    gateway: &Gateway,
    provider: &Provider,
    counted: Result<ProviderRequest, dialects::TranslateError>,
    model: &str,
) -> Result<u64, String> {
    let counted = counted.map_err(|e| e.to_string())?;
    let outbound = provider_call(provider, &counted)?;
    let finished = gateway
        .caller
        .call(provider, &outbound, &RequestFacts::for_model(model))
        .await
        .map_err(|refused| format!("{:?}", refused.refusal))?;
    match finished.value {
        Upstream::Response(response) if response.status.is_success() => match response.body {
            UpstreamBody::Full(bytes) => provider
                .spec
                .dialect
                .count_tokens_response(&bytes)
                .map_err(|e| e.to_string()),
            UpstreamBody::Stream(_) => Err("the token count came as a stream".into()),
        },
        Upstream::Response(response) => Err(format!("HTTP {}", response.status.as_u16())),
        Upstream::Failed { message, .. } => Err(message),
    }
}

//! `:countTokens`. A Gemini provider counts the client's own request
//! (forwarded as is); an Anthropic-dialect provider counts the hub request
//! with its `/v1/messages/count_tokens`; any other provider, or a counter
//! that fails, gets the local estimate `/v1/messages/count_tokens` uses
//! (marked `x-keyrelay-token-count: estimate`). The answer is Gemini's
//! `{"totalTokens": N}`. Token counting does not fall back.

use axum::response::{IntoResponse, Response};
use dialects::anthropic::MessagesRequest;
use dialects::gemini::inbound::CountTokensRequest;
use dialects::ProviderRequest;
use http::HeaderValue;
use keypool::OutcomeClass;
use serde_json::json;

use super::super::attempt_log::AttemptLog;
use super::super::count_tokens::estimate_tokens;
use super::super::forward::forward;
use super::super::render::{decorate, Trail};
use super::super::translated::provider_call;
use super::super::Gateway;
use super::GeminiCall;
use crate::call::{RequestFacts, Upstream, UpstreamBody};
use crate::dialect::{Dialect, TokenCounter};
use crate::registry::Provider;
use crate::route::Route;

pub(super) async fn count(gateway: &Gateway, request: &GeminiCall<'_>, route: Route) -> Response {
    let provider = route.provider.clone();
    if provider.spec.dialect.is_native_for(Dialect::Gemini) {
        return match request.forward_leg(route) {
            Ok(leg) => forward(gateway, leg).await,
            Err(error) => error.in_shape(Dialect::Gemini).into_response(),
        };
    }
    let hub = match request.parsed::<CountTokensRequest>().and_then(|counted| {
        counted
            .to_messages(&route.model)
            .map_err(|e| super::super::error::ApiError::invalid(e.0))
    }) {
        Ok(hub) => hub,
        Err(error) => return error.in_shape(Dialect::Gemini).into_response(),
    };
    if provider.spec.dialect.token_counter() == TokenCounter::Native {
        match anthropic_count(gateway, &provider, &hub, &route.model).await {
            Ok(tokens) => {
                let response = axum::Json(json!({ "totalTokens": tokens })).into_response();
                let trail = Trail {
                    provider: &provider,
                    model: Some(&route.model),
                    fallback: 0,
                    key: None,
                    log: &AttemptLog::default(),
                };
                return decorate(response, &trail, OutcomeClass::Success);
            }
            Err(reason) => {
                tracing::debug!(provider = %provider.name(), %reason, "count_tokens failed; estimating locally")
            }
        }
    }
    let mut response = axum::Json(json!({ "totalTokens": estimate_tokens(&hub) })).into_response();
    response.headers_mut().insert(
        "x-keyrelay-token-count",
        HeaderValue::from_static("estimate"),
    );
    response
}

/// Anthropic's own counter, through the key pool like any request.
async fn anthropic_count(
    gateway: &Gateway,
    provider: &Provider,
    hub: &MessagesRequest,
    model: &str,
) -> Result<u64, String> {
    let mut body = json!({ "model": model, "messages": hub.messages });
    if let Some(system) = &hub.system {
        body["system"] = json!(system);
    }
    if let Some(tools) = &hub.tools {
        body["tools"] = json!(tools);
    }
    let counted = ProviderRequest {
        path: String::from("/v1/messages/count_tokens"),
        query: None,
        body,
    };
    let outbound = provider_call(provider, &counted)?;
    let finished = gateway
        .caller
        .call(provider, &outbound, &RequestFacts::for_model(model))
        .await
        .map_err(|refused| format!("{:?}", refused.refusal))?;
    match finished.value {
        Upstream::Response(response) if response.status.is_success() => match response.body {
            UpstreamBody::Full(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["input_tokens"].as_u64())
                .ok_or_else(|| String::from("count_tokens answer without input_tokens")),
            UpstreamBody::Stream(_) => Err("count_tokens answered with a stream".into()),
        },
        Upstream::Response(response) => Err(format!("HTTP {}", response.status.as_u16())),
        Upstream::Failed { message, .. } => Err(message),
    }
}

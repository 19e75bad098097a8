//! Answering with what the upstream sent, unchanged: Anthropic-dialect
//! providers on `/v1/messages`, and the native passthrough.

use axum::body::Body;
use axum::response::Response;

use super::render::render;
use super::Gateway;
use crate::call::{RequestFacts, Step, UpstreamBody};
use crate::dialect::Dialect;
use crate::registry::Provider;
use crate::transport::headers::forwardable_response_headers;
use crate::transport::Outbound;

/// Calls `outbound` and answers with the upstream's response as it is;
/// keyrelay's own errors take `shape`.
pub async fn forward(
    gateway: &Gateway,
    provider: &Provider,
    outbound: Outbound,
    facts: &RequestFacts,
    shape: Dialect,
) -> Response {
    let result = gateway.caller.call(provider, &outbound, facts).await;
    render(provider, result, shape, |upstream, key, _| {
        let body = match upstream.body {
            UpstreamBody::Full(bytes) => Body::from(bytes),
            UpstreamBody::Stream(held) => {
                let step = Step::Forward {
                    shape,
                    framing: upstream.framing,
                };
                Body::from_stream(gateway.caller.stream(provider, key, held, step))
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = upstream.status;
        *response.headers_mut() = forwardable_response_headers(upstream.headers);
        response
    })
}

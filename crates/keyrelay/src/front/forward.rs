//! Answering with what the upstream sent, unchanged: Anthropic-dialect
//! providers on `/v1/messages`, and the native passthrough.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use keypool::{Fingerprint, OutcomeClass};

use super::fallback::{serve, Leg};
use super::Gateway;
use crate::call::{RequestFacts, Step, UpstreamBody, UpstreamResponse};
use crate::dialect::Dialect;
use crate::registry::Provider;
use crate::transport::headers::forwardable_response_headers;
use crate::transport::Outbound;

/// A request that goes upstream as the client sent it (bar the key, and
/// perhaps the model name) and comes back as the upstream answers.
pub struct ForwardLeg {
    pub provider: Arc<Provider>,
    pub facts: RequestFacts,
    pub outbound: Outbound,
    /// Whose error format the client expects (for stream error frames).
    pub shape: Dialect,
}

impl Leg for ForwardLeg {
    fn provider(&self) -> &Arc<Provider> {
        &self.provider
    }

    fn facts(&self) -> &RequestFacts {
        &self.facts
    }

    fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    fn answer(
        self,
        gateway: &Gateway,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        _: OutcomeClass,
    ) -> Response {
        let body = match upstream.body {
            UpstreamBody::Full(bytes) => Body::from(bytes),
            UpstreamBody::Stream(held) => {
                let step = Step::Forward {
                    shape: self.shape,
                    framing: upstream.framing,
                };
                Body::from_stream(gateway.caller.stream(&self.provider, key, held, step))
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = upstream.status;
        *response.headers_mut() = forwardable_response_headers(upstream.headers);
        response
    }
}

/// Calls `leg`'s provider alone (no fallback) and answers with the
/// upstream's response as it is; keyrelay's own errors take its shape.
pub async fn forward(gateway: &Gateway, leg: ForwardLeg) -> Response {
    let shape = leg.shape;
    serve(gateway, shape, [Ok(leg)]).await
}

//! The legs a front hands the call layer: a request forwarded as the client
//! sent it ([`ForwardLeg`]), or translated through the hub
//! ([`TranslatedLeg`]).

use axum::body::Body;
use axum::response::Response;
use keypool::{Fingerprint, OutcomeClass};

use super::translated::TranslatedLeg;
use crate::call::{Caller, Continuation, Leg, Step, Target, UpstreamBody, UpstreamResponse};
use crate::dialect::Dialect;
use crate::transport::headers::forwardable_response_headers;

/// A request that goes upstream as the client sent it (bar the key, and
/// perhaps the model name) and comes back as the upstream answers.
pub struct ForwardLeg {
    pub target: Target,
    /// Whose error format the client expects (for stream error frames).
    pub shape: Dialect,
    /// How a stream that breaks is asked for the rest, when it may be.
    pub continuation: Option<Continuation>,
}

impl Leg for ForwardLeg {
    fn target(&self) -> &Target {
        &self.target
    }

    fn answer(
        self,
        caller: &Caller,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        _: OutcomeClass,
    ) -> Response {
        let mut report = None;
        let body = match upstream.body {
            UpstreamBody::Full(bytes) => Body::from(bytes),
            UpstreamBody::Stream(held) => {
                let step = Step::Forward {
                    shape: self.shape,
                    framing: upstream.framing,
                };
                let (stream, late) =
                    caller.stream(&self.target.provider, key, held, step, self.continuation);
                report = Some(late);
                Body::from_stream(stream)
            }
        };
        let mut response = Response::new(body);
        if let Some(report) = report {
            response.extensions_mut().insert(report);
        }
        *response.status_mut() = upstream.status;
        *response.headers_mut() = forwardable_response_headers(upstream.headers);
        response
    }
}

/// A target reached as the client sent the request, or through the hub.
pub enum RoutedLeg<'a> {
    /// The provider speaks the client's API: forward the bytes.
    Forward(ForwardLeg),
    /// Another dialect: translate.
    Translate(TranslatedLeg<'a>),
}

impl Leg for RoutedLeg<'_> {
    fn target(&self) -> &Target {
        match self {
            RoutedLeg::Forward(leg) => leg.target(),
            RoutedLeg::Translate(leg) => leg.target(),
        }
    }

    fn answer(
        self,
        caller: &Caller,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        class: OutcomeClass,
    ) -> Response {
        match self {
            RoutedLeg::Forward(leg) => leg.answer(caller, upstream, key, class),
            RoutedLeg::Translate(leg) => leg.answer(caller, upstream, key, class),
        }
    }
}

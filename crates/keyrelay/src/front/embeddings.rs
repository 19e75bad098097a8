//! Embeddings (`/v1/embeddings`; Gemini's `:embedContent` and
//! `:batchEmbedContents`) over the fallback chain like any request: the
//! same key pools, failover, cooldowns and `x-keyrelay-*` headers. A
//! provider that speaks the client's API gets the client's bytes (a Gemini
//! batch with each request naming the routed model) and its answer comes
//! back as it is; any other gets the request in its own embeddings API
//! ([`dialects::embed`]) and its vectors are written in the client's
//! shape. A provider without embeddings (Anthropic) is the client's error.
//!
//! Every answer carries its input tokens for spend: the provider's count,
//! else an estimate from the inputs ([`Estimated`]), since Gemini reports
//! none. Embeddings have no output tokens.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use dialects::embed::{self, EmbedRequest};
use http::{HeaderValue, StatusCode};
use keypool::{Fingerprint, OutcomeClass};

use super::legs::ForwardLeg;
use super::request::ClientCall;
use super::translated::{provider_call, upstream_error};
use crate::call::{Caller, Leg, Target, UpstreamBody, UpstreamResponse};
use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};
use crate::route::Route;
use crate::team::usage::{Estimated, Reported};
use crate::team::Usage;
use crate::transport::headers::add_configured_headers;

/// One target of an embeddings request.
pub struct EmbedLeg<'a> {
    target: Target,
    request: &'a EmbedRequest,
    /// The model as the client named it (a translated answer names it).
    client_model: &'a str,
    /// Whose error shape the client reads.
    shape: Dialect,
    /// The provider speaks the client's API: its answer goes back as is.
    native: bool,
}

/// Serves `request` (an [`dialects::client::Operation::Embed`] read from
/// `call`) over `chain`.
pub async fn serve(
    caller: &Caller,
    call: &ClientCall<'_>,
    request: &EmbedRequest,
    chain: Vec<Route>,
) -> Response {
    let legs = chain
        .into_iter()
        .map(|route| EmbedLeg::new(call, request, route));
    crate::call::serve(caller, call.api.error_shape(), legs).await
}

impl<'a> EmbedLeg<'a> {
    fn new(
        call: &'a ClientCall<'_>,
        request: &'a EmbedRequest,
        route: Route,
    ) -> Result<Self, ApiError> {
        let shape = call.api.error_shape();
        let client_model = call.head.model.as_str();
        let spec = &route.provider.spec;
        if call.api.native_for(spec.dialect, spec.responses) {
            let model = route.model.clone();
            let mut target = call.forward_leg(route)?.target;
            if request.answer == embed::AnswerShape::GeminiBatch {
                let body = embed::gemini::routed_batch(&target.outbound.body, &model)
                    .map_err(|e| ApiError::invalid(e.0))?;
                target.outbound.body = body.into();
            }
            return Ok(EmbedLeg {
                target,
                request,
                client_model,
                shape,
                native: true,
            });
        }
        let provider = route.provider;
        let translated = embed::provider_request(provider.spec.dialect, request, &route.model)
            .map_err(|e| ApiError::invalid(format!("{}: {}", provider.name(), e.0)))?;
        let mut outbound = provider_call(&provider, &translated).map_err(ApiError::invalid)?;
        add_configured_headers(
            &mut outbound.headers,
            call.headers(),
            &provider.spec.forward_headers,
        );
        Ok(EmbedLeg {
            target: Target {
                provider,
                facts: call.facts(route.model),
                outbound,
            },
            request,
            client_model,
            shape,
            native: false,
        })
    }

    /// What spends: the input tokens the answer reports, else an estimate.
    fn usage(&self, reported: Option<u64>) -> UsageNote {
        match reported {
            Some(input) => UsageNote::Reported(Usage {
                input,
                ..Usage::default()
            }),
            None => UsageNote::Estimated(Usage {
                input: self.request.inputs.estimated_tokens(),
                ..Usage::default()
            }),
        }
    }
}

/// The input tokens an answer is charged, left for the request's record.
enum UsageNote {
    Reported(Usage),
    Estimated(Usage),
}

impl UsageNote {
    fn on(self, mut response: Response) -> Response {
        let extensions = response.extensions_mut();
        match self {
            UsageNote::Reported(usage) => {
                extensions.insert(Reported::of(usage));
            }
            UsageNote::Estimated(usage) => {
                extensions.insert(Estimated(usage));
                // The client's `usage.prompt_tokens`, if its shape has one, is ours.
                response.headers_mut().insert(
                    "x-keyrelay-token-count",
                    HeaderValue::from_static("estimate"),
                );
            }
        }
        response
    }
}

impl Leg for EmbedLeg<'_> {
    fn target(&self) -> &Target {
        &self.target
    }

    fn answer(
        self,
        caller: &Caller,
        upstream: UpstreamResponse,
        key: &Fingerprint,
        class: OutcomeClass,
    ) -> Response {
        let dialect = self.target.provider.spec.dialect;
        let success = upstream.status.is_success() && class == OutcomeClass::Success;
        if self.native {
            let reported = match &upstream.body {
                UpstreamBody::Full(bytes) => embed::reported_tokens(dialect, bytes),
                UpstreamBody::Stream(_) => None,
            };
            let note = self.usage(reported);
            let forward = ForwardLeg {
                target: self.target,
                shape: self.shape,
                continuation: None,
            };
            let response = forward.answer(caller, upstream, key, class);
            return match success {
                true => note.on(response),
                false => response,
            };
        }
        if !success {
            return upstream_error(dialect, &upstream, class)
                .in_shape(self.shape)
                .into_response();
        }
        let provider = self.target.provider.name();
        let body = match &upstream.body {
            UpstreamBody::Full(bytes) => bytes,
            UpstreamBody::Stream(_) => {
                return bad_gateway(
                    format!(
                    "the {provider} embeddings answer was larger than limits.max_response_bytes"
                ),
                    self.shape,
                )
            }
        };
        match embed::provider_answer(dialect, body, self.request.inputs.len()) {
            Ok(embeddings) => {
                let written = self.request.render(&embeddings, self.client_model);
                let mut response = Response::new(Body::from(written));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                self.usage(embeddings.input_tokens).on(response)
            }
            Err(error) => bad_gateway(
                format!("keyrelay could not read the {provider} embeddings answer: {error}"),
                self.shape,
            ),
        }
    }
}

fn bad_gateway(message: String, shape: Dialect) -> Response {
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, message)
        .in_shape(shape)
        .into_response()
}

//! `/v1/messages` for providers that speak another API: translate the
//! request, call, and translate the answer back — whole or streamed — with
//! upstream errors as Anthropic error types.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::MessagesRequest;
use dialects::{ProviderRequest, Translator};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use keypool::OutcomeClass;

use super::error::{ApiError, ErrorKind};
use super::render::{decorate, render};
use super::Gateway;
use crate::call::{RequestFacts, Step, UpstreamBody, UpstreamResponse};
use crate::dialect::Dialect;
use crate::registry::Provider;
use crate::transport::Outbound;

/// A fresh Anthropic-style message id.
pub fn message_id() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..24)
        .map(|_| ALPHABET[fastrand::usize(..ALPHABET.len())] as char)
        .collect();
    format!("msg_{tail}")
}

/// Serves one Messages request through `translator`.
pub async fn translated(
    gateway: &Gateway,
    provider: &Provider,
    translator: &'static dyn Translator,
    request: MessagesRequest,
    facts: &RequestFacts,
) -> Response {
    let upstream_model = facts.model.as_deref().unwrap_or(&request.model);
    let outbound = match translator
        .request(&request, upstream_model)
        .map_err(|err| err.to_string())
        .and_then(|translated| provider_call(provider, &translated))
    {
        Ok(outbound) => outbound,
        Err(err) => {
            let error = ApiError::invalid(err).into_response();
            return decorate(error, provider, None, OutcomeClass::ClientError);
        }
    };
    let result = gateway.caller.call(provider, &outbound, facts).await;
    let (id, model) = (message_id(), request.model.as_str());
    render(
        provider,
        result,
        Dialect::Anthropic,
        |upstream, key, class| {
            // Every key failed: an error status, or an error inside a 200.
            if !upstream.status.is_success() || class != OutcomeClass::Success {
                return upstream_error(provider.spec.dialect, &upstream, class);
            }
            match upstream.body {
            UpstreamBody::Stream(held) if request.is_stream() => {
                let step = Step::Translate(translator.stream(model, &id));
                let stream = gateway.caller.stream(provider, key, held, step);
                let mut response = Response::new(Body::from_stream(stream));
                let headers = response.headers_mut();
                headers.insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/event-stream; charset=utf-8"),
                );
                headers.insert(
                    http::header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                );
                response
            }
            UpstreamBody::Full(body) => match translator.response(&body, model, &id) {
                Ok(message) => axum::Json(message).into_response(),
                Err(err) => bad_gateway(format!(
                    "keyrelay could not translate the {} response: {err}",
                    provider.name()
                )),
            },
            UpstreamBody::Stream(_) => bad_gateway(format!(
                "the {} answer was not a whole document keyrelay can translate (a stream, or larger than limits.max_response_bytes)",
                provider.name()
            )),
        }
        },
    )
}

fn bad_gateway(message: String) -> Response {
    ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, message).into_response()
}

/// A translated request as an upstream call: a JSON POST below the
/// provider's base URL, with its auth and dialect.
pub fn provider_call(provider: &Provider, request: &ProviderRequest) -> Result<Outbound, String> {
    let body = serde_json::to_vec(&request.body).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(Outbound {
        method: Method::POST,
        url: provider
            .endpoint(&request.path, request.query.as_deref())
            .map_err(|e| e.to_string())?,
        headers,
        body: Bytes::from(body),
        auth: provider.spec.auth.clone(),
        dialect: provider.spec.dialect,
    })
}

/// An upstream error as an Anthropic error: same status (for an error inside
/// a 200, the status its class stands for), Anthropic type, the provider's own
/// (already redacted) message, `retry-after` kept.
fn upstream_error(dialect: Dialect, upstream: &UpstreamResponse, class: OutcomeClass) -> Response {
    let body = match &upstream.body {
        UpstreamBody::Full(bytes) => bytes.as_ref(),
        UpstreamBody::Stream(_) => &[],
    };
    let message = dialect
        .error_message(body)
        .unwrap_or_else(|| format!("upstream answered HTTP {}", upstream.status.as_u16()));
    let status = if upstream.status.is_success() {
        status_of(class)
    } else {
        upstream.status
    };
    let mut error = ApiError::new(status, ErrorKind::for_status(status.as_u16()), message);
    error.retry_after = upstream
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|secs| secs.ceil() as u64);
    error.into_response()
}

/// The HTTP status an outcome class stands for, for errors that came inside a 200.
fn status_of(class: OutcomeClass) -> StatusCode {
    match class {
        OutcomeClass::KeyInvalid => StatusCode::UNAUTHORIZED,
        OutcomeClass::KeyNoCredit => StatusCode::PAYMENT_REQUIRED,
        OutcomeClass::RateLimited | OutcomeClass::QuotaDaily => StatusCode::TOO_MANY_REQUESTS,
        OutcomeClass::ClientError => StatusCode::BAD_REQUEST,
        OutcomeClass::Success | OutcomeClass::Transient | OutcomeClass::ProviderDown => {
            StatusCode::BAD_GATEWAY
        }
    }
}

//! Errors keyrelay itself answers with, rendered in the caller's own API shape.

use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use crate::dialect::Dialect;
pub use crate::dialect::ErrorKind;
use crate::registry::{EndpointError, LocalServerOff, MissingBaseUrl};

/// An error keyrelay answers itself.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds, for the `retry-after` header.
    pub retry_after: Option<u64>,
    /// Whose error format the client expects.
    pub shape: Dialect,
    /// Every attempt, when no target could serve: an `attempts` array
    /// inside the error object (at the top level where the error is a
    /// string, as in Ollama's shape).
    pub attempts: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
            shape: Dialect::Anthropic,
            attempts: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, message)
    }

    /// A request body that could not be read: too large, too slow, or broken.
    pub fn body_rejected(rejection: &BytesRejection, limit: usize) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::body_too_large(limit);
        }
        // The body's own error lies a few wrappers down.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
        while let Some(error) = cause {
            if let Some(slow) = error.downcast_ref::<BodyTooSlow>() {
                return ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    ErrorKind::InvalidRequest,
                    slow.to_string(),
                );
            }
            cause = error.source();
        }
        ApiError::invalid(format!("could not read the request body: {rejection}"))
    }

    /// A request body over `limit` bytes, read or declared.
    pub fn body_too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::RequestTooLarge,
            format!("request body is larger than keyrelay's limit of {limit} bytes"),
        )
    }

    pub fn in_shape(mut self, shape: Dialect) -> Self {
        self.shape = shape;
        self
    }

    pub fn body(&self) -> serde_json::Value {
        let mut body = self
            .shape
            .error_body(self.status.as_u16(), self.kind, &self.message);
        if let Some(attempts) = &self.attempts {
            let at = match body.get_mut("error") {
                Some(serde_json::Value::Object(error)) => Some(error),
                _ => body.as_object_mut(),
            };
            if let Some(object) = at {
                object.insert("attempts".to_owned(), attempts.clone());
            }
        }
        body
    }
}

/// A request body that paused longer than `server.body_read_timeout`, or
/// fell behind its pace; the front door's timed body fails with it.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "request body arrived too slowly: it paused for {timeout:?}, or came slower than 1 MiB per {timeout:?} (server.body_read_timeout)"
)]
pub struct BodyTooSlow {
    pub timeout: std::time::Duration,
}

impl From<MissingBaseUrl> for ApiError {
    fn from(missing: MissingBaseUrl) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Api,
            missing.to_string(),
        )
    }
}

/// A 403: the provider exists, but this gateway does not let clients reach it.
impl From<LocalServerOff> for ApiError {
    fn from(off: LocalServerOff) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorKind::Permission,
            format!("keyrelay: {off}"),
        )
    }
}

impl From<EndpointError> for ApiError {
    fn from(err: EndpointError) -> Self {
        match err {
            EndpointError::MissingBaseUrl(missing) => missing.into(),
            EndpointError::TooLong => ApiError::new(
                StatusCode::URI_TOO_LONG,
                ErrorKind::InvalidRequest,
                err.to_string(),
            ),
            EndpointError::Climbs => ApiError::invalid(err.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<dialects::client::ClientError> for ApiError {
    fn from(error: dialects::client::ClientError) -> Self {
        use dialects::client::ClientError;
        match error {
            ClientError::Invalid(message) => ApiError::invalid(message),
            ClientError::NoRoute(message) => {
                ApiError::new(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
            }
        }
    }
}

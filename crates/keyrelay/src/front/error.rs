//! Errors keyrelay itself answers with, rendered in the caller's own API shape.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::providers::Dialect;

/// Whose error format the client expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    Anthropic,
    Openai,
    Gemini,
    Ollama,
}

impl From<Dialect> for ErrorShape {
    fn from(dialect: Dialect) -> Self {
        match dialect {
            Dialect::Anthropic => ErrorShape::Anthropic,
            Dialect::OpenaiChat => ErrorShape::Openai,
            Dialect::Gemini => ErrorShape::Gemini,
            Dialect::Ollama => ErrorShape::Ollama,
        }
    }
}

/// The kinds of error, named as Anthropic names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    Billing,
    Permission,
    NotFound,
    RequestTooLarge,
    RateLimit,
    Api,
    Overloaded,
}

impl ErrorKind {
    fn anthropic(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request_error",
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::Billing => "billing_error",
            ErrorKind::Permission => "permission_error",
            ErrorKind::NotFound => "not_found_error",
            ErrorKind::RequestTooLarge => "request_too_large",
            ErrorKind::RateLimit => "rate_limit_error",
            ErrorKind::Api => "api_error",
            ErrorKind::Overloaded => "overloaded_error",
        }
    }

    fn google_status(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest | ErrorKind::RequestTooLarge => "INVALID_ARGUMENT",
            ErrorKind::Authentication => "UNAUTHENTICATED",
            ErrorKind::Billing | ErrorKind::Permission => "PERMISSION_DENIED",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::RateLimit => "RESOURCE_EXHAUSTED",
            ErrorKind::Api => "INTERNAL",
            ErrorKind::Overloaded => "UNAVAILABLE",
        }
    }
}

/// An error keyrelay answers itself.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds, for the `retry-after` header.
    pub retry_after: Option<u64>,
    pub shape: ErrorShape,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            retry_after: None,
            shape: ErrorShape::Anthropic,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, message)
    }

    pub fn in_shape(mut self, shape: ErrorShape) -> Self {
        self.shape = shape;
        self
    }

    pub fn body(&self) -> serde_json::Value {
        match self.shape {
            ErrorShape::Anthropic => json!({
                "type": "error",
                "error": {"type": self.kind.anthropic(), "message": self.message},
            }),
            ErrorShape::Openai => json!({
                "error": {"message": self.message, "type": self.kind.anthropic(), "param": null, "code": null},
            }),
            ErrorShape::Gemini => json!({
                "error": {"code": self.status.as_u16(), "message": self.message, "status": self.kind.google_status()},
            }),
            ErrorShape::Ollama => json!({"error": self.message}),
        }
    }
}

impl ErrorKind {
    /// The Anthropic error type for an upstream HTTP status.
    pub fn for_status(status: StatusCode) -> ErrorKind {
        match status.as_u16() {
            401 => ErrorKind::Authentication,
            402 => ErrorKind::Billing,
            403 => ErrorKind::Permission,
            404 => ErrorKind::NotFound,
            413 => ErrorKind::RequestTooLarge,
            429 => ErrorKind::RateLimit,
            503 | 529 => ErrorKind::Overloaded,
            400..=499 => ErrorKind::InvalidRequest,
            _ => ErrorKind::Api,
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

/// The frame that tells a streaming client its stream failed after content
/// had gone out, in the stream's own format. `None` for a plain document,
/// which can only be cut off.
pub fn stream_error_frame(
    shape: ErrorShape,
    framing: crate::transport::Framing,
    message: &str,
) -> Option<Bytes> {
    use crate::transport::Framing;
    let error = ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::Api, message).in_shape(shape);
    let data = error.body().to_string();
    match (framing, shape) {
        (Framing::Sse, ErrorShape::Anthropic) => {
            Some(format!("event: error\ndata: {data}\n\n").into())
        }
        (Framing::Sse, _) => Some(format!("data: {data}\n\n").into()),
        (Framing::Ndjson, _) => Some(format!("{data}\n").into()),
        (Framing::Whole, _) => None,
    }
}

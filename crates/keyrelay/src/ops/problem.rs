//! The answer of an admin call that went wrong, shared by the admin API's
//! parts.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use serde_json::json;

/// `{"error": {"type": kind, "message": …}}` with `status`.
pub(super) fn problem(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({"error": {"type": kind, "message": message.into()}});
    (status, Json(body)).into_response()
}

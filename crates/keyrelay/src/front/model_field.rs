//! The client's JSON body with only its top-level `model` value replaced,
//! every other byte as sent: a native provider gets the request byte for
//! byte, bar the model name routing changed.

use bytes::{Bytes, BytesMut};
use dialects::client::scan::top_level_value;

use crate::error::ApiError;

/// The client's `body` for a provider asked for `routed` where the client
/// named `client`: the same bytes when routing kept the name, else only the
/// `model` value replaced (the document re-encoded when that value cannot
/// be found byte-wise).
pub fn routed_body(body: &Bytes, client: &str, routed: &str) -> Result<Bytes, ApiError> {
    if client == routed {
        return Ok(body.clone());
    }
    match with_model(body, routed) {
        Some(body) => Ok(body),
        None => reencoded(body, routed),
    }
}

/// The document re-encoded with `model`.
fn reencoded(body: &[u8], model: &str) -> Result<Bytes, ApiError> {
    let mut request: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).map_err(|e| ApiError::invalid(e.to_string()))?;
    request.insert("model".into(), serde_json::Value::String(model.to_owned()));
    serde_json::to_vec(&request)
        .map(Bytes::from)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// `body` with the top-level `"model"` value replaced by `model` as a JSON
/// string; `None` when `body` is not an object with such a field (the
/// caller then re-encodes the document).
pub fn with_model(body: &[u8], model: &str) -> Option<Bytes> {
    let value = top_level_value(body, "model")?;
    let encoded = serde_json::to_string(model).ok()?;
    let mut out = BytesMut::with_capacity(body.len() + encoded.len());
    out.extend_from_slice(&body[..value.start]);
    out.extend_from_slice(encoded.as_bytes());
    out.extend_from_slice(&body[value.end..]);
    Some(out.freeze())
}

#[cfg(test)]
mod tests;

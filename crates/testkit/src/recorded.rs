//! A request as the fake upstream received it, and the API key it carried.

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::HeaderMap;

/// One request the fake upstream received, with every header as sent.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without the query, e.g. `/v1/messages`.
    pub path: String,
    /// The raw query string without `?`, if any.
    pub query: Option<String>,
    /// All request headers.
    pub headers: HeaderMap,
    /// The whole request body.
    pub body: Bytes,
    /// The API key found on the request, if any: the `x-api-key` header, else
    /// `x-goog-api-key`, else `Authorization: Bearer`, else the `key` query parameter.
    pub key: Option<String>,
}

impl Recorded {
    /// The first value of header `name` as text, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.body)
    }
}

/// The API key of a request, looked up in order: the `x-api-key` header, the
/// `x-goog-api-key` header, `Authorization: Bearer <key>`, the `key` query parameter.
/// Empty values do not count.
pub(crate) fn key_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = header(AUTHORIZATION.as_str()).and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then_some(token)
    });
    let from_headers = [header("x-api-key"), header("x-goog-api-key"), bearer]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|key| !key.is_empty())
        .map(str::to_owned);
    from_headers.or_else(|| query.and_then(query_key))
}

/// The decoded value of the `key` query parameter.
fn query_key(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "key")
        .map(|(_, value)| percent_decode(value))
        .filter(|key| !key.is_empty())
}

/// Decodes `%XX` escapes and `+` (form encoding); malformed escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok()),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(byte), _) => {
                out.push(byte);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, byte) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;

//! Which headers cross the gateway, and how the pooled key is injected.

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::providers::Auth;

/// Hop-by-hop headers (RFC 9110 §7.6.1) and ones the HTTP client sets itself.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

/// The client's own credentials: never forwarded upstream.
const CREDENTIALS: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "cookie",
];

/// Client request headers that may go upstream: no hop-by-hop headers, no
/// client credentials, no `accept-encoding` (keyrelay reads error bodies, so
/// it asks for identity encoding), nothing of keyrelay's own.
pub fn forwardable_request_headers(client: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(client.len());
    for (name, value) in client {
        let n = name.as_str();
        if HOP_BY_HOP.contains(&n)
            || CREDENTIALS.contains(&n)
            || n == "accept-encoding"
            || n.starts_with("x-keyrelay-")
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Upstream response headers that may go back to the client: all but the
/// hop-by-hop ones (the body's length and framing are the gateway's own).
pub fn forwardable_response_headers(mut upstream: HeaderMap) -> HeaderMap {
    // A response has a handful of headers: look at those rather than hash
    // every hop-by-hop name.
    let hop_by_hop: Vec<HeaderName> = upstream
        .keys()
        .filter(|name| HOP_BY_HOP.contains(&name.as_str()))
        .cloned()
        .collect();
    for name in hop_by_hop {
        upstream.remove(name);
    }
    upstream
}

const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");

/// Why a key could not be put on a request. The request must then not be
/// sent: without its key it would go out unauthenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotInjected {
    /// Control characters or line breaks, which a header value cannot carry
    /// (keys that break [`keypool::KEY_RULE`] are refused where they come
    /// in; this is the last line of defence).
    #[error(
        "the key cannot be sent as a header value (it holds a control character or a line break)"
    )]
    KeyNotAHeaderValue,
    /// A custom provider's `auth` names a header that cannot exist.
    #[error("the provider's auth header name is not a valid HTTP header name")]
    HeaderName,
}

/// Puts the key on the request the provider's way.
pub fn inject_key(headers: &mut HeaderMap, auth: &Auth, key: &str) -> Result<(), NotInjected> {
    let sensitive = |value: String| -> Result<HeaderValue, NotInjected> {
        let mut v = HeaderValue::from_str(&value).map_err(|_| NotInjected::KeyNotAHeaderValue)?;
        v.set_sensitive(true);
        Ok(v)
    };
    let (name, value) = match auth {
        Auth::None => return Ok(()),
        Auth::Bearer => (
            http::header::AUTHORIZATION,
            sensitive(format!("Bearer {key}"))?,
        ),
        Auth::XApiKey => {
            let value = sensitive(key.to_owned())?;
            headers
                .entry(ANTHROPIC_VERSION)
                .or_insert(HeaderValue::from_static("2023-06-01"));
            (X_API_KEY, value)
        }
        Auth::XGoogApiKey => (X_GOOG_API_KEY, sensitive(key.to_owned())?),
        Auth::Header(name) => (
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| NotInjected::HeaderName)?,
            sensitive(key.to_owned())?,
        ),
    };
    headers.insert(name, value);
    Ok(())
}

/// A query string without the client's own `key=` credential (Gemini style).
pub fn strip_key_param(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty() && pair.split('=').next() != Some("key"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests;

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

/// Puts the key on the request the provider's way.
const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_GOOG_API_KEY: HeaderName = HeaderName::from_static("x-goog-api-key");

pub fn inject_key(headers: &mut HeaderMap, auth: &Auth, key: &str) {
    let sensitive = |value: String| -> Option<HeaderValue> {
        let mut v = HeaderValue::from_str(&value).ok()?;
        v.set_sensitive(true);
        Some(v)
    };
    let (name, value) = match auth {
        Auth::None => return,
        Auth::Bearer => (
            http::header::AUTHORIZATION,
            sensitive(format!("Bearer {key}")),
        ),
        Auth::XApiKey => {
            headers
                .entry(ANTHROPIC_VERSION)
                .or_insert(HeaderValue::from_static("2023-06-01"));
            (X_API_KEY, sensitive(key.to_owned()))
        }
        Auth::XGoogApiKey => (X_GOOG_API_KEY, sensitive(key.to_owned())),
        Auth::Header(name) => match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => (name, sensitive(key.to_owned())),
            Err(_) => return,
        },
    };
    if let Some(value) = value {
        headers.insert(name, value);
    }
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

//! Which headers cross the gateway, and how the pooled key is injected.
//!
//! A client's request headers go upstream by allow-list: the few every API
//! reads ([`COMMON`]), the provider dialect's own
//! ([`Dialect::request_headers`]), and the ones the provider's configuration
//! names (`forward_headers`). Nothing else does: not a header that picks who
//! is billed (`OpenAI-Organization`, `x-goog-user-project`), not what a
//! proxy in front of keyrelay added (`X-Forwarded-For`, `Forwarded`,
//! `X-Original-URL`), not another API's flags (`anthropic-beta` to Gemini).
//! Hop-by-hop headers, every header the client's `Connection` names, and
//! the client's own credentials never go, whatever the configuration says.

use http::header::{GetAll, HeaderMap, HeaderName, HeaderValue, CONNECTION};

use crate::dialect::Dialect;
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

/// What any API reads: the body's type and encoding, the answer's type, the
/// client's name. Not `accept-encoding`: keyrelay reads error bodies, so it
/// asks for identity encoding.
const COMMON: &[&str] = &["content-type", "content-encoding", "accept", "user-agent"];

/// The client's request headers a provider of `dialect` gets when the
/// request goes to it as the client sent it (the client speaks its API):
/// [`COMMON`], the dialect's own, and `extra`, the provider's
/// `forward_headers` (checked by [`forward_header_names`]). None the
/// client's `Connection` header names.
pub fn forwardable_request_headers(
    client: &HeaderMap,
    dialect: Dialect,
    extra: &[HeaderName],
) -> HeaderMap {
    let api = dialect.request_headers();
    let connection = client.get_all(CONNECTION);
    let mut out = HeaderMap::new();
    for (name, value) in client {
        let n = name.as_str();
        let allowed = COMMON.contains(&n) || api.contains(&n) || extra.contains(name);
        if allowed && !named_in(&connection, n) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// Adds to a request keyrelay wrote itself (a translated one) the client's
/// headers that `extra`, the provider's `forward_headers`, names: only
/// those, none keyrelay already set, none the client's `Connection` names.
pub fn add_configured_headers(headers: &mut HeaderMap, client: &HeaderMap, extra: &[HeaderName]) {
    if extra.is_empty() {
        return;
    }
    let connection = client.get_all(CONNECTION);
    for name in extra {
        if headers.contains_key(name) || named_in(&connection, name.as_str()) {
            continue;
        }
        for value in client.get_all(name) {
            headers.append(name.clone(), value.clone());
        }
    }
}

/// Whether a `Connection` header lists `name` (a comma-separated list of
/// names, any case): the client marked it for this hop only.
fn named_in(connection: &GetAll<'_, HeaderValue>, name: &str) -> bool {
    connection.iter().any(|value| {
        value
            .as_bytes()
            .split(|b| *b == b',')
            .any(|token| token.trim_ascii().eq_ignore_ascii_case(name.as_bytes()))
    })
}

/// A provider's `forward_headers` as header names, or why one cannot be
/// forwarded: hop-by-hop headers, client credentials and keyrelay's own
/// never go upstream.
pub fn forward_header_names(names: &[String]) -> Result<Vec<HeaderName>, String> {
    names
        .iter()
        .map(|name| {
            let parsed = HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| format!("`{name}` is not a header name"))?;
            let n = parsed.as_str();
            if HOP_BY_HOP.contains(&n) {
                return Err(format!(
                    "`{name}` is hop-by-hop or set by the HTTP client: it never goes upstream"
                ));
            }
            if CREDENTIALS.contains(&n) {
                return Err(format!(
                    "`{name}` carries the client's credential: it never goes upstream"
                ));
            }
            if n.starts_with("x-keyrelay-") {
                return Err(format!(
                    "`{name}` is keyrelay's own: it never goes upstream"
                ));
            }
            Ok(parsed)
        })
        .collect()
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

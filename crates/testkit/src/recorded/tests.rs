use http::{HeaderMap, HeaderValue};

use super::{key_of, percent_decode};

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn x_api_key_wins_over_every_other_place() {
    let h = headers(&[
        ("authorization", "Bearer sk-bearer"),
        ("x-goog-api-key", "goog"),
        ("x-api-key", "sk-ant"),
    ]);
    assert_eq!(key_of(&h, Some("key=query")).as_deref(), Some("sk-ant"));
}

#[test]
fn goog_header_comes_before_bearer() {
    let h = headers(&[
        ("authorization", "Bearer sk-bearer"),
        ("x-goog-api-key", "goog"),
    ]);
    assert_eq!(key_of(&h, None).as_deref(), Some("goog"));
}

#[test]
fn bearer_scheme_is_case_insensitive() {
    let h = headers(&[("authorization", "bearer sk-1")]);
    assert_eq!(key_of(&h, None).as_deref(), Some("sk-1"));
}

#[test]
fn basic_auth_is_not_a_key() {
    let h = headers(&[("authorization", "Basic dXNlcjpwYXNz")]);
    assert_eq!(key_of(&h, None), None);
}

#[test]
fn empty_header_falls_through_to_the_next_place() {
    let h = headers(&[("x-api-key", ""), ("authorization", "Bearer sk-2")]);
    assert_eq!(key_of(&h, None).as_deref(), Some("sk-2"));
}

#[test]
fn query_key_is_decoded() {
    let h = HeaderMap::new();
    assert_eq!(
        key_of(&h, Some("alt=sse&key=AIza%2Dx+y")).as_deref(),
        Some("AIza-x y")
    );
    assert_eq!(key_of(&h, Some("monkey=1&alt=sse")), None);
    assert_eq!(key_of(&h, None), None);
}

#[test]
fn malformed_escapes_are_kept() {
    assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
}

use super::*;

#[test]
fn client_credentials_and_hop_by_hop_headers_stay_behind() {
    let mut client = HeaderMap::new();
    for (n, v) in [
        ("authorization", "Bearer client-token"),
        ("x-api-key", "client-token"),
        ("x-goog-api-key", "client-token"),
        ("connection", "keep-alive"),
        ("accept-encoding", "gzip"),
        ("anthropic-beta", "tools-2024"),
        ("content-type", "application/json"),
    ] {
        client.insert(HeaderName::from_static(n), HeaderValue::from_static(v));
    }
    let out = forwardable_request_headers(&client);
    let names: Vec<_> = out.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["anthropic-beta", "content-type"]);
}

#[test]
fn keys_go_where_each_provider_expects_them() {
    let mut h = HeaderMap::new();
    inject_key(&mut h, &Auth::XApiKey, "k1").unwrap();
    assert_eq!(h["x-api-key"], "k1");
    assert_eq!(h["anthropic-version"], "2023-06-01");
    let mut h = HeaderMap::new();
    inject_key(&mut h, &Auth::Bearer, "k2").unwrap();
    assert_eq!(h["authorization"], "Bearer k2");
    assert!(h["authorization"].is_sensitive());
    let mut h = HeaderMap::new();
    inject_key(&mut h, &Auth::XGoogApiKey, "k3").unwrap();
    assert_eq!(h["x-goog-api-key"], "k3");
    let mut h = HeaderMap::new();
    inject_key(&mut h, &Auth::Header("api-key".into()), "k4").unwrap();
    assert_eq!(h["api-key"], "k4");
}

#[test]
fn a_key_that_cannot_be_a_header_value_is_not_injected_and_nothing_is_set() {
    for auth in [
        Auth::Bearer,
        Auth::XApiKey,
        Auth::XGoogApiKey,
        Auth::Header("api-key".into()),
    ] {
        for key in ["k\0ey", "k\ney", "k\rey", "k\u{7f}ey"] {
            let mut h = HeaderMap::new();
            assert_eq!(
                inject_key(&mut h, &auth, key),
                Err(NotInjected::KeyNotAHeaderValue),
                "{auth:?} {key:?}"
            );
            assert!(h.is_empty(), "{auth:?}: {h:?}");
        }
    }
    let mut h = HeaderMap::new();
    assert_eq!(
        inject_key(&mut h, &Auth::Header("bad header".into()), "k"),
        Err(NotInjected::HeaderName)
    );
}

#[test]
fn the_key_query_parameter_is_removed() {
    assert_eq!(strip_key_param("alt=sse&key=abc&x=1"), "alt=sse&x=1");
    assert_eq!(strip_key_param("key=abc"), "");
    assert_eq!(strip_key_param("keys=1"), "keys=1");
}

use super::*;

const DIALECTS: [Dialect; 5] = [
    Dialect::Anthropic,
    Dialect::OpenaiChat,
    Dialect::Openrouter,
    Dialect::Gemini,
    Dialect::Ollama,
];

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("header name");
        map.append(name, HeaderValue::from_str(value).expect("header value"));
    }
    map
}

fn names(map: &HeaderMap) -> Vec<&str> {
    map.keys().map(HeaderName::as_str).collect()
}

fn extra(names: &[&str]) -> Vec<HeaderName> {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    forward_header_names(&names).expect("forwardable names")
}

/// What a hostile client of a shared gateway adds: headers that pick who
/// the pooled key bills, and ones a proxy in front would have added.
const HOSTILE: &[(&str, &str)] = &[
    ("OpenAI-Organization", "org-someone-else"),
    ("OpenAI-Project", "proj-someone-else"),
    ("x-goog-user-project", "someone-elses-project"),
    ("X-Forwarded-For", "10.0.0.1"),
    ("X-Forwarded-Host", "internal.example"),
    ("X-Forwarded-Proto", "https"),
    ("Forwarded", "for=10.0.0.1;host=internal.example"),
    ("X-Real-IP", "10.0.0.1"),
    ("X-Original-URL", "/admin"),
    ("X-Rewrite-URL", "/admin"),
    ("Via", "1.1 someone"),
    ("X-HTTP-Method-Override", "DELETE"),
    ("x-goog-fieldmask", "candidates"),
];

#[test]
fn client_credentials_and_hop_by_hop_headers_stay_behind() {
    let client = headers(&[
        ("authorization", "Bearer client-token"),
        ("x-api-key", "client-token"),
        ("x-goog-api-key", "client-token"),
        ("api-key", "client-token"),
        ("cookie", "session=client"),
        ("proxy-authorization", "Basic Y2xpZW50"),
        ("connection", "keep-alive"),
        ("keep-alive", "timeout=5"),
        ("proxy-connection", "keep-alive"),
        ("te", "trailers"),
        ("trailer", "x-checksum"),
        ("upgrade", "h2c"),
        ("host", "keyrelay.internal"),
        ("accept-encoding", "gzip"),
        ("x-keyrelay-session", "s1"),
        ("content-type", "application/json"),
    ]);
    for dialect in DIALECTS {
        let out = forwardable_request_headers(&client, dialect, &[]);
        assert_eq!(names(&out), ["content-type"], "{dialect:?}");
        // Nor could any list let one through, or miss a header by its case.
        for name in COMMON.iter().chain(dialect.request_headers()) {
            assert!(
                !HOP_BY_HOP.contains(name) && !CREDENTIALS.contains(name),
                "{dialect:?} lists {name}"
            );
            assert_eq!(name.to_ascii_lowercase(), *name, "{dialect:?}: {name}");
        }
    }
}

#[test]
fn each_dialect_gets_its_own_headers_and_no_other_apis() {
    let client = headers(&[
        ("content-type", "application/json"),
        ("accept", "text/event-stream"),
        ("user-agent", "claude-cli/2.0.0 (external, cli)"),
        ("anthropic-version", "2023-06-01"),
        ("anthropic-beta", "interleaved-thinking-2025-05-14"),
        ("anthropic-beta", "fine-grained-tool-streaming-2025-05-14"),
        ("x-claude-code-session-id", "c1"),
        ("openai-beta", "responses=experimental"),
        ("session_id", "s1"),
        ("http-referer", "https://app.example"),
        ("x-title", "App"),
        ("x-goog-api-client", "google-genai-sdk/1.30.0"),
        ("x-stainless-os", "Linux"),
        ("anthropic-dangerous-direct-browser-access", "true"),
    ]);
    let common = ["content-type", "accept", "user-agent"];
    let expected: [(Dialect, &[&str]); 5] = [
        (
            Dialect::Anthropic,
            &[
                "anthropic-version",
                "anthropic-beta",
                "x-claude-code-session-id",
            ],
        ),
        (Dialect::OpenaiChat, &["openai-beta", "session_id"]),
        (Dialect::Openrouter, &["http-referer", "x-title"]),
        (Dialect::Gemini, &["x-goog-api-client"]),
        (Dialect::Ollama, &[]),
    ];
    for (dialect, own) in expected {
        let out = forwardable_request_headers(&client, dialect, &[]);
        let mut sent = names(&out);
        sent.sort_unstable();
        let mut wanted: Vec<&str> = common.iter().chain(own).copied().collect();
        wanted.sort_unstable();
        assert_eq!(sent, wanted, "{dialect:?}");
    }
    let anthropic = forwardable_request_headers(&client, Dialect::Anthropic, &[]);
    assert_eq!(
        anthropic.get_all("anthropic-beta").iter().count(),
        2,
        "every value of a repeated header goes"
    );
}

#[test]
fn billing_scope_and_proxy_headers_stay_behind_unless_the_provider_names_them() {
    let mut pairs = HOSTILE.to_vec();
    pairs.push(("content-type", "application/json"));
    let client = headers(&pairs);
    for dialect in DIALECTS {
        let out = forwardable_request_headers(&client, dialect, &[]);
        assert_eq!(names(&out), ["content-type"], "{dialect:?}");
    }
    let named = extra(&["OpenAI-Organization", "x-forwarded-for"]);
    let out = forwardable_request_headers(&client, Dialect::OpenaiChat, &named);
    assert_eq!(
        names(&out),
        ["openai-organization", "x-forwarded-for", "content-type"]
    );
    assert_eq!(out["openai-organization"], "org-someone-else");
}

#[test]
fn headers_the_connection_header_names_never_go_even_when_configured() {
    let client = headers(&[
        ("Connection", "keep-alive, X-Secret-Hop"),
        ("connection", " anthropic-beta ,close"),
        ("x-secret-hop", "1"),
        ("anthropic-beta", "tools-2024"),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ]);
    let named = extra(&["x-secret-hop"]);
    let out = forwardable_request_headers(&client, Dialect::Anthropic, &named);
    assert_eq!(names(&out), ["anthropic-version", "content-type"]);
    let mut translated = HeaderMap::new();
    add_configured_headers(&mut translated, &client, &named);
    assert!(translated.is_empty(), "{translated:?}");
}

#[test]
fn a_translated_request_gets_only_the_client_headers_its_provider_names() {
    let mut client = headers(HOSTILE);
    client.append(
        "openai-organization",
        HeaderValue::from_static("org-second"),
    );
    client.insert("content-type", HeaderValue::from_static("text/plain"));
    client.insert("anthropic-beta", HeaderValue::from_static("tools-2024"));
    let mut outbound = headers(&[("content-type", "application/json")]);
    add_configured_headers(&mut outbound, &client, &[]);
    assert_eq!(
        names(&outbound),
        ["content-type"],
        "nothing named, nothing added"
    );
    add_configured_headers(
        &mut outbound,
        &client,
        &extra(&["OpenAI-Organization", "Content-Type"]),
    );
    assert_eq!(names(&outbound), ["content-type", "openai-organization"]);
    assert_eq!(
        outbound["content-type"], "application/json",
        "keyrelay's own wins"
    );
    let orgs: Vec<_> = outbound.get_all("openai-organization").iter().collect();
    assert_eq!(orgs, ["org-someone-else", "org-second"]);
}

#[test]
fn forward_headers_cannot_name_hop_by_hop_headers_credentials_or_keyrelays_own() {
    let accepted = extra(&["OpenAI-Organization", " X-Goog-User-Project "]);
    let accepted: Vec<&str> = accepted.iter().map(HeaderName::as_str).collect();
    assert_eq!(accepted, ["openai-organization", "x-goog-user-project"]);
    for name in [
        "Connection",
        "Transfer-Encoding",
        "Proxy-Authorization",
        "Upgrade",
        "Host",
        "Authorization",
        "X-Api-Key",
        "x-goog-api-key",
        "Cookie",
        "x-keyrelay-session",
        "not a name",
    ] {
        let refused = forward_header_names(&[name.to_owned()]);
        assert!(refused.is_err(), "{name} was accepted");
    }
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
fn a_clients_anthropic_version_goes_to_anthropic_only_which_always_gets_one() {
    let client = headers(&[("anthropic-version", "2024-01-01")]);
    let mut sent = forwardable_request_headers(&client, Dialect::Anthropic, &[]);
    inject_key(&mut sent, &Auth::XApiKey, "k1").expect("a key that is a header value");
    assert_eq!(sent["anthropic-version"], "2024-01-01", "the client's own");
    let mut sent = forwardable_request_headers(&HeaderMap::new(), Dialect::Anthropic, &[]);
    inject_key(&mut sent, &Auth::XApiKey, "k1").expect("a key that is a header value");
    assert_eq!(
        sent["anthropic-version"], "2023-06-01",
        "added when missing"
    );
    let mut sent = forwardable_request_headers(&client, Dialect::OpenaiChat, &[]);
    inject_key(&mut sent, &Auth::Bearer, "k1").expect("a key that is a header value");
    assert!(sent.get("anthropic-version").is_none(), "{sent:?}");
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

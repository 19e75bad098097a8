use std::sync::Arc;

use keypool::MemoryStore;

use super::*;
use crate::env::MapEnv;

fn build(toml: &str, env: &[(&str, &str)]) -> Result<Registry, ConfigError> {
    let config = Config::from_toml(toml)?;
    Registry::build(
        &config,
        &MapEnv::new(env.iter().copied()),
        Arc::new(MemoryStore::new()),
        LocalServers::All,
    )
}

fn shown(registry: &Registry, provider: &str) -> Vec<String> {
    registry
        .get(provider)
        .expect("provider")
        .pool
        .keys()
        .map(|k| k.fingerprint().to_string())
        .collect()
}

#[test]
fn keys_come_from_singular_and_plural_variables() {
    let r = build(
        "",
        &[
            ("OPENAI_API_KEY", "test-openai-key-aaaaaaaaa1"),
            ("OPENAI_API_KEYS", "test-openai-key-aaaaaaaaa2, test-openai-key-aaaaaaaaa1\ntest-openai-key-aaaaaaaaa3"),
            ("ANTHROPIC_API_KEY", "claude-codes-own-credential"),
        ],
    )
    .expect("registry");
    assert_eq!(r.get("openai").expect("openai").pool.len(), 3);
    assert!(
        r.get("anthropic").expect("anthropic").pool.is_empty(),
        "ANTHROPIC_API_KEY is Claude Code's own"
    );
}

#[test]
fn file_keys_carry_labels_and_weights_and_win_over_the_environment() {
    let r = build(
        r#"
[providers.gemini]
keys = [{ key = "test-gemini-key-bbbbbbbb1", label = "personal", weight = 3 }, "test-gemini-key-bbbbbbbb2"]
"#,
        &[("GEMINI_API_KEYS", "test-gemini-key-bbbbbbbb1,test-gemini-key-bbbbbbbb3")],
    )
    .expect("registry");
    let keys = shown(&r, "gemini");
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0], "personal");
}

#[test]
fn base_urls_come_from_the_file_then_the_environment_then_the_default() {
    let r = build("", &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")]).expect("registry");
    assert_eq!(
        r.get("openai").expect("openai").base_url().ok(),
        Some("http://127.0.0.1:9/v1")
    );
    assert_eq!(
        r.get("gemini").expect("gemini").base_url().ok(),
        Some("https://generativelanguage.googleapis.com")
    );
    assert_eq!(r.get("litellm").expect("litellm").base_url().ok(), None);
    let r = build(
        "[providers.openai]\nbase_url = \"http://127.0.0.1:7/v1\"\n",
        &[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")],
    )
    .expect("registry");
    assert_eq!(
        r.get("openai").expect("openai").base_url().ok(),
        Some("http://127.0.0.1:7/v1")
    );
}

#[test]
fn custom_providers_need_a_dialect_and_a_base_url() {
    let missing = build("[providers.acme]\nbase_url = \"http://127.0.0.1:1\"\n", &[]);
    assert!(matches!(missing, Err(ConfigError::Invalid(m)) if m.contains("dialect")));
    let missing = build("[providers.acme]\ndialect = \"openai-chat\"\n", &[]);
    assert!(matches!(missing, Err(ConfigError::Invalid(m)) if m.contains("base_url")));
}

#[test]
fn unknown_config_fields_are_rejected_with_their_name() {
    let err =
        Config::from_toml("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 1\n").expect_err("typo");
    assert!(err.to_string().contains("lisen"), "{err}");
    let err = Config::from_toml("[pool]\nstrategy = \"random\"\n").expect_err("bad strategy");
    let err = err.to_string();
    // The field and its choices, not the value written.
    assert!(
        err.contains("pool.strategy") && err.contains("round_robin") && !err.contains("random"),
        "{err}"
    );
}

#[test]
fn keyless_local_providers_get_one_anonymous_slot() {
    let r = build("", &[]).expect("registry");
    assert_eq!(shown(&r, "ollama"), ["no-key"]);
}

fn endpoint(base: &str, path: &str, query: Option<&str>) -> Result<String, String> {
    let r = build("", &[("OPENAI_BASE_URL", base)]).expect("registry");
    let provider = r.get("openai").expect("openai");
    provider
        .endpoint(path, query)
        .map(|uri| uri.to_string())
        .map_err(|e| e.to_string())
}

#[test]
fn endpoints_append_the_path_to_the_base_path_and_set_the_query() {
    let ok = |base, path, query| endpoint(base, path, query).expect("endpoint");
    assert_eq!(
        ok("http://127.0.0.1:9/v1/", "/chat/completions", None),
        "http://127.0.0.1:9/v1/chat/completions"
    );
    assert_eq!(
        ok(
            "https://generativelanguage.googleapis.com",
            "/v1beta/models/m:generateContent",
            Some("alt=sse")
        ),
        "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?alt=sse"
    );
    assert_eq!(
        ok("http://[::1]:8080/a%20b", "/", Some("")),
        "http://[::1]:8080/a%20b/?"
    );
    // Escapes go through as they are; what a URL may not carry is escaped
    // the way URL parsers do it.
    assert_eq!(ok("http://h/v1", "/a%2Fb/c", None), "http://h/v1/a%2Fb/c");
    assert_eq!(
        ok(
            "http://h",
            "/a b/\"{}<>`?#/é|\\[]",
            Some("x='y z'&q=/?{}#é")
        ),
        "http://h/a%20b/%22%7B%7D%3C%3E%60%3F%23/%C3%A9|/[]?x=%27y%20z%27&q=/?{}%23%C3%A9"
    );
}

#[test]
fn a_base_url_must_be_an_http_url_with_a_host() {
    for base in [
        "127.0.0.1:9",
        "ftp://h/x",
        "http:///x",
        "http://user:secret@h/v1",
        "not a url",
    ] {
        let err = endpoint(base, "/x", None).expect_err(base);
        assert!(err.contains("has no base URL"), "{base}: {err}");
    }
    let err = build("", &[])
        .expect("registry")
        .get("litellm")
        .expect("litellm")
        .endpoint("/x", None)
        .expect_err("no base");
    assert!(err.to_string().contains("LITELLM_BASE_URL"), "{err}");
}

#[test]
fn an_endpoint_too_long_for_a_uri_is_an_error() {
    let path = format!("/{}", "a".repeat(70_000));
    let err = endpoint("http://h/v1", &path, None).expect_err("too long");
    assert!(err.contains("too long"), "{err}");
}

fn shared(toml: &str, env: &[(&str, &str)]) -> Registry {
    let config = Config::from_toml(toml).expect("config");
    Registry::build(
        &config,
        &MapEnv::new(env.iter().copied()),
        Arc::new(MemoryStore::new()),
        LocalServers::Configured,
    )
    .expect("registry")
}

#[test]
fn a_shared_gateway_serves_local_servers_only_when_configured() {
    let none = shared("", &[]);
    for name in ["ollama", "lmstudio", "vllm"] {
        assert!(none.get(name).is_none(), "{name} is served unconfigured");
        assert!(
            !none.names().split(", ").any(|known| known == name),
            "{}",
            none.names()
        );
        let off = none.off(name).expect("known, and off");
        let variable = format!("{}_BASE_URL", name.to_ascii_uppercase());
        assert_eq!(
            off.how_to_enable(),
            format!("set {variable} or add [providers.{name}] to the config file")
        );
    }
    // Every other provider is served as before.
    assert!(none.get("anthropic").is_some() && none.get("ollama-cloud").is_some());
    assert!(none.off("anthropic").is_none());

    let named = shared(
        "[providers.vllm]\nbase_url = \"http://10.0.0.5:8000/v1\"\n",
        &[("OLLAMA_BASE_URL", "http://127.0.0.1:11434/v1")],
    );
    assert_eq!(
        named
            .get("ollama")
            .map(|p| p.base_url().ok().map(str::to_owned)),
        Some(Some("http://127.0.0.1:11434/v1".to_owned()))
    );
    assert!(named.get("vllm").is_some() && named.off("vllm").is_none());
    // An empty table names it too: the operator chose it, at its default address.
    let table = shared("[providers.lmstudio]\n", &[]);
    assert!(table.get("lmstudio").is_some());
    assert!(named.get("lmstudio").is_none() && named.off("LMStudio").is_some());
    // An empty variable names nothing.
    assert!(shared("", &[("OLLAMA_BASE_URL", " ")])
        .get("ollama")
        .is_none());
}

#[test]
fn a_single_user_gateway_serves_every_local_server() {
    let r = build("", &[]).expect("registry");
    for name in ["ollama", "lmstudio", "vllm"] {
        assert!(r.get(name).is_some(), "{name}");
    }
    assert!(r.all_off().is_empty());
}

#[test]
fn forward_headers_are_set_on_built_in_and_custom_providers_in_any_case() {
    let r = build(
        r#"
[providers.openai]
forward_headers = ["OpenAI-Organization", "OpenAI-Project"]

[providers.acme]
dialect = "gemini"
base_url = "http://127.0.0.1:1"
forward_headers = ["X-Goog-User-Project"]
"#,
        &[],
    )
    .expect("registry");
    let forwarded = |name: &str| -> Vec<String> {
        let provider = r.get(name).expect("provider");
        provider
            .spec
            .forward_headers
            .iter()
            .map(|h| h.as_str().to_owned())
            .collect()
    };
    assert_eq!(
        forwarded("openai"),
        ["openai-organization", "openai-project"]
    );
    assert_eq!(forwarded("acme"), ["x-goog-user-project"]);
    assert!(forwarded("gemini").is_empty(), "none unless configured");
}

#[test]
fn forward_headers_naming_a_hop_by_hop_header_or_a_credential_are_refused() {
    for name in ["Connection", "Authorization", "x-api-key", "bad name"] {
        let toml = format!("[providers.openai]\nforward_headers = [\"{name}\"]\n");
        let refused = build(&toml, &[]);
        assert!(
            matches!(&refused, Err(ConfigError::Invalid(m)) if m.contains("provider `openai`: forward_headers") && m.contains(name)),
            "{name}: {:?}",
            refused.err()
        );
    }
}

#[test]
fn a_key_with_a_control_character_in_a_variable_stops_the_start_naming_the_variable() {
    let key = "test-gemini-key\u{7}-cccccccc1";
    let err = build(
        "",
        &[
            ("GEMINI_API_KEY", "test-gemini-key-cccccccc0"),
            (
                "GEMINI_API_KEYS",
                &format!("test-gemini-key-cccccccc2,{key}"),
            ),
        ],
    )
    .err()
    .expect("refused")
    .to_string();
    let named = keypool::Fingerprint::hash_only(key);
    assert!(err.starts_with("GEMINI_API_KEYS: "), "{err}");
    assert!(err.contains(named.as_str()), "{err}");
    assert!(err.contains("a control character"), "{err}");
    assert!(err.contains(keypool::KEY_RULE), "{err}");
    assert!(!err.contains("cccc"), "no key characters: {err}");
}

#[test]
fn a_config_file_key_with_a_space_inside_is_refused() {
    let err = build(
        "[providers.openai]\nkeys = [\"Bearer test-openai-key-dddddddd1\"]\n",
        &[],
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("provider `openai`"), "{err}");
    assert!(err.contains("a space or tab"), "{err}");
    assert!(!err.contains("dddd"), "{err}");
}

#[test]
fn a_custom_auth_header_that_cannot_exist_is_refused() {
    let err = build(
        "[providers.odd]\ndialect = \"openai-chat\"\nbase_url = \"http://127.0.0.1:9\"\nauth = { header = \"api key\" }\n",
        &[],
    )
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("not a valid HTTP header name"), "{err}");
}

use std::sync::Arc;

use keypool::MemoryStore;

use super::*;
use crate::config::Config;
use crate::env::MapEnv;
use crate::registry::LocalServers;

fn registry(toml: &str) -> Registry {
    let config = Config::from_toml(toml).expect("config");
    Registry::build(
        &config,
        &MapEnv::default(),
        Arc::new(MemoryStore::new()),
        LocalServers::All,
    )
    .expect("registry")
}

fn target(
    registry: &Registry,
    aliases: &Aliases,
    model: &str,
) -> Result<(String, String), RouteError> {
    resolve(registry, aliases, model).map(|r| (r.provider.name().to_owned(), r.model))
}

fn pair(provider: &str, model: &str) -> Result<(String, String), RouteError> {
    Ok((provider.to_owned(), model.to_owned()))
}

#[test]
fn provider_at_model_prefixes_and_patterns() {
    let r = registry("");
    let none = Aliases::default();
    assert_eq!(
        target(&r, &none, "gemini@gemini-2.5-flash"),
        pair("gemini", "gemini-2.5-flash")
    );
    assert_eq!(
        target(&r, &none, "google@gemini-2.5-pro"),
        pair("gemini", "gemini-2.5-pro")
    );
    assert_eq!(
        target(&r, &none, "openrouter@qwen/qwen3-coder:free"),
        pair("openrouter", "qwen/qwen3-coder:free")
    );
    assert_eq!(
        target(&r, &none, "g/gemini-2.5-flash"),
        pair("gemini", "gemini-2.5-flash")
    );
    assert_eq!(target(&r, &none, "oai/gpt-4.1"), pair("openai", "gpt-4.1"));
    assert_eq!(
        target(&r, &none, "or/anthropic/claude-sonnet-4"),
        pair("openrouter", "anthropic/claude-sonnet-4")
    );
    assert_eq!(
        target(&r, &none, "oc/gpt-oss:120b"),
        pair("ollama-cloud", "gpt-oss:120b")
    );
    assert_eq!(
        target(&r, &none, "ll/my-deployment"),
        pair("litellm", "my-deployment")
    );
    assert_eq!(
        target(&r, &none, "a/claude-opus-4-1"),
        pair("anthropic", "claude-opus-4-1")
    );
    assert_eq!(
        target(&r, &none, "lmstudio@qwen3-8b"),
        pair("lmstudio", "qwen3-8b")
    );
    assert_eq!(
        target(&r, &none, "claude-sonnet-4-5"),
        pair("anthropic", "claude-sonnet-4-5")
    );
    assert_eq!(
        target(&r, &none, "gemini-2.5-flash"),
        pair("gemini", "gemini-2.5-flash")
    );
    assert_eq!(target(&r, &none, "gpt-5"), pair("openai", "gpt-5"));
    assert_eq!(target(&r, &none, "o3-mini"), pair("openai", "o3-mini"));
}

#[test]
fn unknown_providers_and_unroutable_models_are_errors_that_list_providers() {
    let r = registry("");
    let none = Aliases::default();
    match target(&r, &none, "nosuch@x") {
        Err(RouteError::UnknownProvider { name, known, .. }) => {
            assert_eq!(name, "nosuch");
            assert!(known.contains("anthropic, openai, gemini"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        target(&r, &none, "llama3"),
        Err(RouteError::Unroutable { .. })
    ));
    assert_eq!(target(&r, &none, "  "), Err(RouteError::EmptyModel));
    assert_eq!(target(&r, &none, "gemini@"), Err(RouteError::EmptyModel));
}

#[test]
fn aliases_apply_command_line_first_then_the_most_specific_file_rule() {
    let r = registry("");
    let file = [
        ("claude-*".to_owned(), "gemini@gemini-2.5-flash".to_owned()),
        (
            "claude-3-5-haiku*".to_owned(),
            "gemini@gemini-2.5-flash-lite".to_owned(),
        ),
        (
            "claude-opus-4-1".to_owned(),
            "gemini@gemini-2.5-pro".to_owned(),
        ),
    ];
    let aliases = Aliases::new(vec![], file.clone());
    assert_eq!(
        target(&r, &aliases, "claude-opus-4-1"),
        pair("gemini", "gemini-2.5-pro")
    );
    assert_eq!(
        target(&r, &aliases, "claude-3-5-haiku-20241022"),
        pair("gemini", "gemini-2.5-flash-lite")
    );
    assert_eq!(
        target(&r, &aliases, "claude-sonnet-4-5"),
        pair("gemini", "gemini-2.5-flash")
    );
    let cli = vec![("claude-*".to_owned(), "oai/gpt-4.1".to_owned())];
    let aliases = Aliases::new(cli, file);
    assert_eq!(
        target(&r, &aliases, "claude-opus-4-1"),
        pair("openai", "gpt-4.1")
    );
}

#[test]
fn alias_loops_are_reported() {
    let r = registry("");
    let aliases = Aliases::new(vec![("a".into(), "b".into()), ("b".into(), "a".into())], []);
    assert!(matches!(
        target(&r, &aliases, "a"),
        Err(RouteError::AliasLoop(_))
    ));
}

#[test]
fn alias_rules_parse() {
    assert_eq!(
        Aliases::parse_rule("claude-*=gemini@x"),
        Ok(("claude-*".into(), "gemini@x".into()))
    );
    assert!(Aliases::parse_rule("claude-*").is_err());
    assert!(Aliases::parse_rule("=x").is_err());
}

#[test]
fn globs_match_stars_and_question_marks() {
    assert!(glob_match("claude-*", "claude-sonnet-4-5"));
    assert!(glob_match("*", ""));
    assert!(glob_match("*-4-?", "claude-opus-4-1"));
    assert!(glob_match("a*b*c", "axxbyyc"));
    assert!(!glob_match("claude-*", "gpt-claude-x"));
    assert!(!glob_match("a?c", "ac"));
    // `?` is one character, however many bytes it takes.
    assert!(glob_match("é?", "éà"));
    assert!(!glob_match("?", "éé"));
    assert!(glob_match("*ü", "aüü"));
    assert!(glob_match("a*ü*z", "aüxüyz"));
    assert!(!glob_match("a*ü*z", "aüxüy"));
    assert!(glob_match("**", "x"));
    assert!(!glob_match("", "x"));
}

#[test]
fn custom_providers_from_the_config_file_route_by_name_and_prefix() {
    let r = registry(
        r#"
[providers.kimi]
dialect = "anthropic"
base_url = "https://api.moonshot.ai/anthropic/"
auth = "x-api-key"
prefixes = ["kimi/"]
"#,
    );
    let none = Aliases::default();
    assert_eq!(target(&r, &none, "kimi@kimi-k2"), pair("kimi", "kimi-k2"));
    assert_eq!(target(&r, &none, "kimi/kimi-k2"), pair("kimi", "kimi-k2"));
    let kimi = r.get("kimi").expect("kimi");
    assert_eq!(
        kimi.base_url().ok(),
        Some("https://api.moonshot.ai/anthropic")
    );
    assert_eq!(kimi.spec.key_envs, ["KIMI_API_KEY", "KIMI_API_KEYS"]);
}

#[test]
fn a_shared_gateway_refuses_an_unconfigured_local_server_saying_how_to_enable_it() {
    let config = Config::from_toml("").expect("config");
    let shared = Registry::build(
        &config,
        &MapEnv::default(),
        Arc::new(MemoryStore::new()),
        LocalServers::Configured,
    )
    .expect("registry");
    let none = Aliases::default();
    match target(&shared, &none, "ollama@llama3") {
        Err(RouteError::LocalServerOff(off)) => {
            let message = off.to_string();
            assert!(
                message.contains("OLLAMA_BASE_URL") && message.contains("[providers.ollama]"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // Through an alias too.
    let aliases = Aliases::new(vec![("claude-*".into(), "vllm@qwen3".into())], []);
    assert!(matches!(
        target(&shared, &aliases, "claude-sonnet-4-5"),
        Err(RouteError::LocalServerOff(_))
    ));
    // A fallback to one stops the gateway from starting.
    let fallback = Fallbacks::new(
        &shared,
        vec![("gemini@*".into(), vec!["lmstudio@qwen3-8b".into()])],
        [],
    );
    assert!(
        matches!(&fallback, Err(e) if matches!(e.source, RouteError::LocalServerOff(_))),
        "{:?}",
        fallback.err()
    );
    // Single-user: the same names route.
    assert_eq!(
        target(&registry(""), &none, "ollama@llama3"),
        pair("ollama", "llama3")
    );
}

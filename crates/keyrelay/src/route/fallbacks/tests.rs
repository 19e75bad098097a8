use std::sync::Arc;

use keypool::MemoryStore;

use super::*;
use crate::config::Config;
use crate::env::MapEnv;
use crate::registry::LocalServers;
use crate::route::{resolve, Aliases};

fn registry() -> Registry {
    let config = Config::from_toml("").expect("config");
    Registry::build(
        &config,
        &MapEnv::default(),
        Arc::new(MemoryStore::new()),
        LocalServers::All,
    )
    .expect("registry")
}

fn rule(pattern: &str, targets: &[&str]) -> (String, Vec<String>) {
    (
        pattern.to_owned(),
        targets.iter().map(|t| (*t).to_owned()).collect(),
    )
}

/// The chain for a model, as `provider@model` strings.
fn chain(registry: &Registry, fallbacks: &Fallbacks, model: &str) -> Vec<String> {
    let route = resolve(registry, &Aliases::default(), model).expect("routes");
    fallbacks
        .chain(&route)
        .map(|t| format!("{}@{}", t.provider.name(), t.model))
        .collect()
}

#[test]
fn the_first_matching_rule_gives_the_chain_with_targets_resolved() {
    let r = registry();
    let file = [
        rule(
            "gemini@*",
            &["or/google/gemini-2.5-pro", "anthropic@claude-sonnet-4-5"],
        ),
        rule("gemini@gemini-2.5-flash-lite", &["openai@gpt-4.1-mini"]),
    ];
    let fallbacks = Fallbacks::new(&r, Vec::new(), file).unwrap();
    assert_eq!(
        chain(&r, &fallbacks, "g/gemini-2.5-pro"),
        [
            "openrouter@google/gemini-2.5-pro",
            "anthropic@claude-sonnet-4-5"
        ]
    );
    // The more specific file rule is tried first.
    assert_eq!(
        chain(&r, &fallbacks, "gemini-2.5-flash-lite"),
        ["openai@gpt-4.1-mini"]
    );
    assert!(chain(&r, &fallbacks, "openai@gpt-4.1").is_empty());
}

#[test]
fn command_line_rules_come_before_the_file() {
    let r = registry();
    let cli = vec![rule("gemini@*", &["openai@gpt-4.1"])];
    let file = [rule("gemini@*", &["anthropic@claude-sonnet-4-5"])];
    let fallbacks = Fallbacks::new(&r, cli, file).unwrap();
    assert_eq!(
        chain(&r, &fallbacks, "gemini@gemini-2.5-pro"),
        ["openai@gpt-4.1"]
    );
}

#[test]
fn a_chain_never_names_the_route_itself() {
    let r = registry();
    let file = [rule(
        "gemini@*",
        &["gemini@gemini-2.5-pro", "gemini@gemini-2.5-flash"],
    )];
    let fallbacks = Fallbacks::new(&r, Vec::new(), file).unwrap();
    assert_eq!(
        chain(&r, &fallbacks, "gemini@gemini-2.5-pro"),
        ["gemini@gemini-2.5-flash"]
    );
}

#[test]
fn a_target_that_does_not_route_is_an_error_naming_rule_and_target() {
    let file = [rule("gemini@*", &["nosuch@model"])];
    let error = Fallbacks::new(&registry(), Vec::new(), file)
        .err()
        .expect("an error");
    assert_eq!(
        (error.pattern.as_str(), error.target.as_str()),
        ("gemini@*", "nosuch@model")
    );
    let text = error.to_string();
    assert!(
        text.contains("nosuch@model") && text.contains("openai"),
        "{text}"
    );
}

#[test]
fn fallback_rules_parse() {
    assert_eq!(
        Fallbacks::parse_rule("gemini@* = openai@gpt-4.1, anthropic@claude-sonnet-4-5"),
        Ok(rule(
            "gemini@*",
            &["openai@gpt-4.1", "anthropic@claude-sonnet-4-5"]
        ))
    );
    for bad in ["gemini@*", "=openai@gpt-4.1", "gemini@*=", "gemini@*= , "] {
        assert!(Fallbacks::parse_rule(bad).is_err(), "{bad}");
    }
}

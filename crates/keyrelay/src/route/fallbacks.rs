//! Fallback chains: where a request goes when the provider it was routed to
//! cannot serve it. A rule is a glob on the routed `provider@model` and the
//! targets to try after it, in order.

use super::{glob_match, ordered_rules, resolve_direct, Route, RouteError};
use crate::registry::Registry;

/// `[fallbacks]` and `--fallback` rules, tried in order; the first whose
/// pattern matches gives the chain.
#[derive(Clone, Default)]
pub struct Fallbacks(Vec<(String, Vec<Route>)>);

/// A fallback target that does not route.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fallback rule `{pattern}`: target `{target}`: {source}")]
pub struct FallbackError {
    pub pattern: String,
    pub target: String,
    #[source]
    pub source: RouteError,
}

impl Fallbacks {
    /// Command-line rules first (in the order given), then the config
    /// file's, most specific pattern first. Targets are resolved now, so a
    /// typo stops the gateway from starting rather than a request later.
    /// A target is `PROVIDER@MODEL` or a prefix form (`or/…`); aliases do
    /// not apply to it.
    pub fn new(
        registry: &Registry,
        cli: Vec<(String, Vec<String>)>,
        file: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Result<Self, FallbackError> {
        let mut rules = Vec::new();
        for (pattern, targets) in ordered_rules(cli, file) {
            let mut routes = Vec::with_capacity(targets.len());
            for target in targets {
                let route =
                    resolve_direct(registry, target.trim()).map_err(|source| FallbackError {
                        pattern: pattern.clone(),
                        target: target.clone(),
                        source,
                    })?;
                routes.push(route);
            }
            rules.push((pattern, routes));
        }
        Ok(Fallbacks(rules))
    }

    /// Parses `PATTERN=TARGET[,TARGET…]`.
    pub fn parse_rule(text: &str) -> Result<(String, Vec<String>), String> {
        let invalid = || {
            format!("fallback `{text}` must look like PATTERN=TARGET[,TARGET...], e.g. 'gemini@*=openai@gpt-4.1,anthropic@claude-sonnet-4-5'")
        };
        let (pattern, targets) = text.split_once('=').ok_or_else(invalid)?;
        let targets: Vec<String> = targets
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if pattern.trim().is_empty() || targets.is_empty() {
            return Err(invalid());
        }
        Ok((pattern.trim().to_owned(), targets))
    }

    /// The targets to try after `route`, in order (never `route` itself);
    /// none when no rule matches its `provider@model`.
    pub fn chain<'a>(&'a self, route: &'a Route) -> impl Iterator<Item = &'a Route> + 'a {
        let targets = if self.0.is_empty() {
            &[][..]
        } else {
            let routed = format!("{}@{}", route.provider.name(), route.model);
            self.0
                .iter()
                .find(|(pattern, _)| glob_match(pattern, &routed))
                .map_or(&[][..], |(_, targets)| targets.as_slice())
        };
        targets.iter().filter(move |target| {
            target.provider.name() != route.provider.name() || target.model != route.model
        })
    }
}

#[cfg(test)]
mod tests;

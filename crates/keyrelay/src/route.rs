//! Model string → (provider, upstream model).

use std::sync::Arc;

use crate::registry::{LocalServerOff, Provider, Registry};

mod fallbacks;
pub use fallbacks::{FallbackError, Fallbacks};

/// Where a request goes.
#[derive(Clone)]
pub struct Route {
    pub provider: Arc<Provider>,
    /// The model name the upstream expects.
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("model is empty")]
    EmptyModel,
    #[error("unknown provider `{name}` in model `{model}`; known providers: {known}")]
    UnknownProvider {
        name: String,
        model: String,
        known: String,
    },
    #[error("cannot tell which provider serves model `{model}`; write it as PROVIDER@MODEL (e.g. gemini@gemini-2.5-flash, openai@gpt-4.1); known providers: {known}")]
    Unroutable { model: String, known: String },
    #[error("model aliases loop on `{0}`")]
    AliasLoop(String),
    /// A local server this gateway leaves out (it is shared).
    #[error(transparent)]
    LocalServerOff(LocalServerOff),
}

/// `--model-alias PATTERN=TARGET` rules, tried in order.
#[derive(Debug, Clone, Default)]
pub struct Aliases(Vec<(String, String)>);

impl Aliases {
    /// Command-line rules first (in the order given), then the config file's,
    /// most specific pattern first (fewest wildcards, then longest).
    pub fn new(
        cli: Vec<(String, String)>,
        file: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Aliases(ordered_rules(cli, file))
    }

    /// Parses `PATTERN=TARGET`.
    pub fn parse_rule(text: &str) -> Result<(String, String), String> {
        match text.split_once('=') {
            Some((p, t)) if !p.trim().is_empty() && !t.trim().is_empty() => Ok((p.trim().into(), t.trim().into())),
            _ => Err(format!("model alias `{text}` must look like PATTERN=TARGET, e.g. 'claude-*=gemini@gemini-2.5-flash'")),
        }
    }

    /// Every rule, in the order they are tried.
    pub fn rules(&self) -> &[(String, String)] {
        &self.0
    }

    fn apply(&self, model: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(pattern, _)| glob_match(pattern, model))
            .map(|(_, target)| target.as_str())
    }
}

/// Glob rules in the order they are tried: the command line's first (in the
/// order given), then the config file's, most specific pattern first (fewest
/// wildcards, then longest).
fn ordered_rules<T>(
    cli: Vec<(String, T)>,
    file: impl IntoIterator<Item = (String, T)>,
) -> Vec<(String, T)> {
    let mut file: Vec<_> = file.into_iter().collect();
    file.sort_by_key(|(pattern, _)| {
        let wild = pattern.chars().filter(|c| *c == '*' || *c == '?').count();
        (wild, std::cmp::Reverse(pattern.len()))
    });
    cli.into_iter().chain(file).collect()
}

/// Resolves a client's model string.
pub fn resolve(registry: &Registry, aliases: &Aliases, model: &str) -> Result<Route, RouteError> {
    let mut model = model.trim().to_owned();
    for _ in 0..8 {
        match aliases.apply(&model) {
            Some(target) if target != model => model = target.to_owned(),
            _ => return resolve_direct(registry, &model),
        }
    }
    Err(RouteError::AliasLoop(model))
}

fn resolve_direct(registry: &Registry, model: &str) -> Result<Route, RouteError> {
    if model.is_empty() {
        return Err(RouteError::EmptyModel);
    }
    let route = |provider: &Arc<Provider>, upstream: &str| Route {
        provider: provider.clone(),
        model: upstream.to_owned(),
    };
    if let Some((name, upstream)) = model.split_once('@') {
        return match registry.get(name) {
            Some(provider) if !upstream.is_empty() => Ok(route(provider, upstream)),
            Some(_) => Err(RouteError::EmptyModel),
            None => Err(match registry.off(name) {
                Some(off) => RouteError::LocalServerOff(off),
                None => RouteError::UnknownProvider {
                    name: name.to_owned(),
                    model: model.to_owned(),
                    known: registry.names(),
                },
            }),
        };
    }
    for provider in registry.all() {
        for prefix in &provider.spec.prefixes {
            if let Some(upstream) = model.strip_prefix(prefix.as_str()) {
                return Ok(route(provider, upstream));
            }
        }
    }
    let by_pattern = [
        ("claude-*", "anthropic"),
        ("gemini-*", "gemini"),
        ("gpt-*", "openai"),
        ("chatgpt-*", "openai"),
        ("o1*", "openai"),
        ("o3*", "openai"),
        ("o4*", "openai"),
    ];
    for (pattern, name) in by_pattern {
        if glob_match(pattern, model) {
            if let Some(provider) = registry.get(name) {
                return Ok(route(provider, model));
            }
        }
    }
    Err(RouteError::Unroutable {
        model: model.to_owned(),
        known: registry.names(),
    })
}

/// `*` matches any run of characters, `?` any one; everything else literally.
/// Walks both strings in place (byte offsets at char boundaries): routing
/// runs it for every request.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let next = |s: &str, at: usize| s[at..].chars().next();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(tc) = next(text, ti) {
        match next(pattern, pi) {
            Some(pc) if pc == '?' || pc == tc => {
                pi += pc.len_utf8();
                ti += tc.len_utf8();
            }
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let retry = st + next(text, st).map_or(1, char::len_utf8);
                    pi = sp + 1;
                    ti = retry;
                    star = Some((sp, retry));
                }
                None => return false,
            },
        }
    }
    pattern[pi..].bytes().all(|b| b == b'*')
}

#[cfg(test)]
mod tests;

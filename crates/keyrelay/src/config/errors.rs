//! Configuration errors that say where and what is wrong, never what was
//! written: a config file holds keys and tokens, and these errors reach the
//! terminal, the log (a reload on SIGHUP) and `/admin/reload`'s answer.
//! TOML and serde messages quote the offending line or value, so they are
//! rebuilt here from their parts.

use std::path::Path;

use figment::error::{Actual, Kind};

use super::ConfigError;

/// A TOML syntax error by file, line and column, and the kind of error
/// ("invalid array"), without the line itself.
pub(super) fn syntax_error(path: Option<&Path>, text: &str, err: &toml::de::Error) -> ConfigError {
    let place = err.span().map_or_else(String::new, |span| {
        let (line, column) = line_column(text, span.start);
        format!(", line {line}, column {column}")
    });
    let kind = unquoted(err.message());
    ConfigError::Invalid(format!(
        "invalid configuration: {}{place}: {} (the line is not shown: it may hold a key)",
        path.map_or_else(|| "config text".to_owned(), |p| p.display().to_string()),
        if kind.is_empty() {
            "invalid TOML"
        } else {
            kind
        },
    ))
}

/// The line and column (from 1) of byte `offset`, counted as toml counts
/// them: an error at the very end belongs to the last line.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len().saturating_sub(1));
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column + offset.saturating_sub(at))
}

/// Every error of figment's chain by file and field, and what was wrong
/// with the value, never the value.
pub(super) fn field_errors(err: figment::Error) -> ConfigError {
    let described: Vec<String> = err.into_iter().map(|e| describe(&e)).collect();
    ConfigError::Invalid(format!("invalid configuration: {}", described.join("; ")))
}

fn describe(err: &figment::Error) -> String {
    let file = err
        .metadata
        .as_ref()
        .and_then(|m| m.source.as_ref())
        .and_then(|s| s.file_path())
        .map(|p| format!("{}: ", p.display()));
    let field = if err.path.is_empty() {
        String::new()
    } else {
        format!("field `{}`: ", err.path.join("."))
    };
    format!("{}{field}{}", file.unwrap_or_default(), what(&err.kind))
}

/// What is wrong, in the words of serde and figment less the value found.
fn what(kind: &Kind) -> String {
    match kind {
        Kind::Message(message) if message.contains("untagged enum KeyConfig") => {
            "expected a key: a string, or a table with `key` (and `label`, `weight`, `group`, `rpm`, `tpm`, `rpd`)".to_owned()
        }
        Kind::Message(message) => match unquoted(message) {
            "" => "invalid value".to_owned(),
            kept => kept.to_owned(),
        },
        Kind::InvalidType(actual, expected) => {
            format!("expected {expected}, found {}", kind_of(actual))
        }
        Kind::InvalidValue(actual, expected) => {
            format!("invalid value ({}), expected {expected}", kind_of(actual))
        }
        Kind::InvalidLength(length, expected) => {
            format!("{length} items, expected {expected}")
        }
        Kind::UnknownVariant(_, expected) => format!("unknown value, expected {}", one_of(expected)),
        Kind::UnknownField(_, expected) => format!("unknown field, expected {}", one_of(expected)),
        Kind::MissingField(field) => format!("missing field `{field}`"),
        Kind::DuplicateField(field) => format!("field `{field}` given twice"),
        Kind::ISizeOutOfRange(_) | Kind::USizeOutOfRange(_) => "integer out of range".to_owned(),
        Kind::Unsupported(actual) => format!("unsupported value: {}", kind_of(actual)),
        Kind::UnsupportedKey(actual, expected) => {
            format!("unsupported key: {}, expected {expected}", kind_of(actual))
        }
    }
}

/// The kind of value found, not the value.
fn kind_of(actual: &Actual) -> &'static str {
    match actual {
        Actual::Bool(_) => "a boolean",
        Actual::Unsigned(_) | Actual::Signed(_) => "an integer",
        Actual::Float(_) => "a float",
        Actual::Char(_) => "a character",
        Actual::Str(_) => "a string",
        Actual::Bytes(_) => "bytes",
        Actual::Unit => "nothing",
        Actual::Option => "an option",
        Actual::Seq => "an array",
        Actual::Map => "a table",
        Actual::NewtypeStruct | Actual::Other(_) => "another kind of value",
        Actual::Enum
        | Actual::UnitVariant
        | Actual::NewtypeVariant
        | Actual::TupleVariant
        | Actual::StructVariant => "an enum",
    }
}

/// The names a field or value may take (names from the code, not the file).
fn one_of(expected: &[&str]) -> String {
    match expected {
        [] => "none".to_owned(),
        [one] => format!("`{one}`"),
        many => format!(
            "one of {}",
            many.iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The first line of `message` up to anything quoted: parsers quote what
/// they found (`found string "…"`, ``unknown state store `…` ``).
fn unquoted(message: &str) -> &str {
    let line = message.lines().next().unwrap_or("");
    line.split(['`', '"'])
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches([':', ','])
        .trim()
}

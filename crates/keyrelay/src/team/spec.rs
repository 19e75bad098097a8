//! What an operator asks of a virtual key, checked field by field before
//! anything is written: a field that does not hold is refused by name
//! (`budget_usd.day: …`, `routes[1]: …`) and nothing changes.

use serde_json::{Map, Value};

use super::windows::Period;
use crate::store::team::UsdBudget;

/// A field that does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        field: field.into(),
        message: message.into(),
    }
}

/// What the checks need to know: the providers routes may name, and now.
pub struct Context<'a> {
    pub providers: &'a [String],
    pub now_ms: u64,
}

/// A change to a key; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeyChange {
    pub name: Option<String>,
    pub team: Option<Option<String>>,
    pub routes: Option<Vec<String>>,
    pub rpm: Option<Option<u64>>,
    pub tpm: Option<Option<u64>>,
    /// Per period: `None` leaves it, `Some(None)` clears it.
    pub budget: [Option<Option<u64>>; 3],
    pub expires_at_ms: Option<Option<u64>>,
    pub disabled: Option<bool>,
}

/// The fields a key takes, for messages.
pub const FIELDS: &str =
    "name, team, routes, rpm, tpm, budget_usd {day, week, month}, expires_at, disabled";

/// The longest name or team, in characters.
const MAX_NAME: usize = 64;
const MAX_ROUTES: usize = 64;
const MAX_ROUTE_LEN: usize = 256;
/// A budget above a billion USD, or a limit above a billion, is a typo.
const MOST_USD: f64 = 1e9;
const MOST_LIMIT: u64 = 1_000_000_000;

impl KeyChange {
    /// A change from a JSON object (`PATCH`, or `POST` with `creating`,
    /// which needs a name and routes default to every model).
    pub fn from_json(body: &Value, creating: bool, cx: &Context<'_>) -> Result<Self, SpecError> {
        let Some(fields) = body.as_object() else {
            return Err(refuse(
                "body",
                format!("must be a JSON object with {FIELDS}"),
            ));
        };
        let mut change = KeyChange::default();
        for (field, value) in fields {
            change.take(field, value, cx)?;
        }
        if creating {
            if change.name.is_none() {
                return Err(refuse("name", "required"));
            }
            if change.routes.is_none() {
                change.routes = Some(vec!["*".into()]);
            }
        }
        Ok(change)
    }

    fn take(&mut self, field: &str, value: &Value, cx: &Context<'_>) -> Result<(), SpecError> {
        match field {
            "name" => self.name = Some(name(field, value.as_str(), !value.is_string())?),
            "team" => {
                self.team = Some(match value {
                    Value::Null => None,
                    value => Some(name(field, value.as_str(), !value.is_string())?),
                })
            }
            "routes" => {
                let Some(list) = value.as_array() else {
                    return Err(refuse(
                        field,
                        "must be a list of model globs, such as [\"gemini@*\", \"openai@gpt-4.1\"]",
                    ));
                };
                let routes: Vec<String> = list
                    .iter()
                    .enumerate()
                    .map(|(n, v)| match v.as_str() {
                        Some(glob) => route(&format!("routes[{n}]"), glob, cx.providers),
                        None => Err(refuse(format!("routes[{n}]"), "must be a string")),
                    })
                    .collect::<Result<_, _>>()?;
                self.routes = Some(routes_list(routes)?);
            }
            "rpm" | "tpm" => {
                let limit = match value {
                    Value::Null => None,
                    value => Some(limit(field, value.as_u64(), value.as_f64())?),
                };
                if field == "rpm" {
                    self.rpm = Some(limit);
                } else {
                    self.tpm = Some(limit);
                }
            }
            "budget_usd" => match value {
                Value::Null => self.budget = [Some(None); 3],
                Value::Object(periods) => self.budget_periods(periods)?,
                _ => {
                    return Err(refuse(
                        field,
                        "must be an object such as {\"day\": 5, \"month\": 100} (USD)",
                    ))
                }
            },
            "expires_at" => {
                self.expires_at_ms = Some(match value {
                    Value::Null => None,
                    value => Some(expiry(value, cx.now_ms)?),
                })
            }
            "disabled" => {
                self.disabled = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| refuse(field, "must be true or false"))?,
                )
            }
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(refuse(
                    shown,
                    format!("unknown field; a virtual key takes {FIELDS}"),
                ));
            }
        }
        Ok(())
    }

    fn budget_periods(&mut self, periods: &Map<String, Value>) -> Result<(), SpecError> {
        for (period, value) in periods {
            let Some(at) = Period::ALL.iter().position(|p| p.as_str() == period) else {
                let shown: String = period.chars().take(32).collect();
                return Err(refuse(
                    format!("budget_usd.{shown}"),
                    "unknown period; budgets are per day, week or month (UTC)",
                ));
            };
            let field = format!("budget_usd.{period}");
            self.budget[at] = Some(match value {
                Value::Null => None,
                value => Some(usd(&field, value.as_f64())?),
            });
        }
        Ok(())
    }

    /// This change applied to `budget`.
    pub fn budget_over(&self, budget: UsdBudget) -> UsdBudget {
        let pick = |change: Option<Option<u64>>, old: Option<u64>| change.unwrap_or(old);
        UsdBudget {
            day: pick(self.budget[0], budget.day),
            week: pick(self.budget[1], budget.week),
            month: pick(self.budget[2], budget.month),
        }
    }
}

/// A name or team: 1 to 64 characters, no control characters, trimmed; not
/// one that looks like a secret.
pub fn name(field: &str, text: Option<&str>, wrong_type: bool) -> Result<String, SpecError> {
    let text = match text {
        Some(text) if !wrong_type => text.trim(),
        _ => return Err(refuse(field, "must be a string")),
    };
    if text.is_empty() || text.chars().count() > MAX_NAME {
        return Err(refuse(field, format!("must be 1 to {MAX_NAME} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(refuse(
            field,
            "may not hold control characters or line breaks",
        ));
    }
    if super::secret::claims_virtual(text) {
        return Err(refuse(
            field,
            "may not start with `kr-`: names show in logs, secrets must not",
        ));
    }
    Ok(text.to_owned())
}

/// One allowed route: a glob on the model a client names or on the
/// `provider@model` it routes to. A provider named before `@` (without
/// wildcards) must exist.
pub fn route(field: &str, glob: &str, providers: &[String]) -> Result<String, SpecError> {
    if glob.is_empty() || glob.len() > MAX_ROUTE_LEN {
        return Err(refuse(field, format!("must be 1 to {MAX_ROUTE_LEN} bytes")));
    }
    if glob.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse(field, "may not hold spaces or control characters"));
    }
    if let Some((provider, model)) = glob.split_once('@') {
        if provider.is_empty() || model.is_empty() {
            return Err(refuse(
                field,
                "write it as PROVIDER@MODEL (a glob: gemini@*, openai@gpt-4.1), or a model or alias glob",
            ));
        }
        let wild = provider.contains(['*', '?']);
        if !wild && !providers.iter().any(|p| p == provider) {
            return Err(refuse(
                field,
                format!(
                    "unknown provider `{}`; known providers: {}",
                    provider.chars().take(64).collect::<String>(),
                    providers.join(", ")
                ),
            ));
        }
    }
    Ok(glob.to_owned())
}

/// A list of routes: at least one, at most [`MAX_ROUTES`].
pub fn routes_list(routes: Vec<String>) -> Result<Vec<String>, SpecError> {
    if routes.is_empty() {
        return Err(refuse(
            "routes",
            "needs at least one route (\"*\" allows every model)",
        ));
    }
    if routes.len() > MAX_ROUTES {
        return Err(refuse("routes", format!("at most {MAX_ROUTES} routes")));
    }
    Ok(routes)
}

/// An rpm or tpm limit: a whole number from 1.
pub fn limit(field: &str, whole: Option<u64>, number: Option<f64>) -> Result<u64, SpecError> {
    match whole {
        Some(n) if (1..=MOST_LIMIT).contains(&n) => Ok(n),
        _ if number.is_some() || whole.is_some() => Err(refuse(
            field,
            format!("must be a whole number from 1 to {MOST_LIMIT} (null or none: no limit)"),
        )),
        _ => Err(refuse(field, "must be a whole number, or null")),
    }
}

/// A budget in USD, as nano-USD: more than 0, at most a billion.
pub fn usd(field: &str, amount: Option<f64>) -> Result<u64, SpecError> {
    match amount {
        Some(usd) if usd.is_finite() && usd > 0.0 && usd <= MOST_USD => {
            Ok((usd * 1e9).round() as u64)
        }
        _ => Err(refuse(
            field,
            format!("must be a number of USD above 0 and at most {MOST_USD:.0} (null or none: no budget)"),
        )),
    }
}

/// An expiry: RFC 3339 (`2025-12-31T00:00:00Z`) or Unix seconds, in the future.
pub fn expiry(value: &Value, now_ms: u64) -> Result<u64, SpecError> {
    const FIELD: &str = "expires_at";
    let at_ms = match value {
        Value::String(text) => parse_time(text).ok_or_else(|| {
            refuse(
                FIELD,
                "must be an RFC 3339 time such as 2025-12-31T00:00:00Z, or Unix seconds",
            )
        })?,
        Value::Number(n) => n
            .as_u64()
            .and_then(|s| s.checked_mul(1000))
            .ok_or_else(|| refuse(FIELD, "must be whole Unix seconds"))?,
        _ => {
            return Err(refuse(
                FIELD,
                "must be an RFC 3339 time, Unix seconds, or null (never expires)",
            ))
        }
    };
    if at_ms <= now_ms {
        return Err(refuse(FIELD, "is in the past"));
    }
    Ok(at_ms)
}

/// Unix ms of an RFC 3339 time.
pub fn parse_time(text: &str) -> Option<u64> {
    let at = chrono::DateTime::parse_from_rfc3339(text.trim()).ok()?;
    u64::try_from(at.timestamp_millis()).ok()
}

#[cfg(test)]
mod tests;

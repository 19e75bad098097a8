//! A key's record as Redis script arguments and hash fields.

use keypool::{KeyRecord, OutcomeClass, Span, UsageBucket};

use crate::store::backend::{class_from_str, KeyDelta};
use crate::store::error::BackendError;

/// The per-update arguments of `apply.lua`, in its order (`""` for none):
/// 18 fixed values, then the model cooldowns, counted.
pub(super) fn args(delta: &KeyDelta) -> Vec<String> {
    let d = &delta.record;
    let h = &d.health;
    let text = |v: Option<&str>| v.unwrap_or("").to_owned();
    let mut args = vec![
        d.id.clone(),
        h.cooling_until_ms.to_string(),
        text(h.cooling_class.map(OutcomeClass::as_str)),
        h.disabled_at_ms.to_string(),
        text(h.disabled_reason.as_deref()),
        h.reinstated_at_ms.to_string(),
        d.requests.to_string(),
    ];
    args.extend(
        OutcomeClass::ALL
            .into_iter()
            .map(|c| d.outcomes.get(c).to_string()),
    );
    args.push(text(d.last_class.map(OutcomeClass::as_str)));
    args.push(text(d.last_reason.as_deref()));
    args.push(d.last_used_ms.to_string());
    args.push(h.scoped.len().to_string());
    for cooldown in &h.scoped {
        args.push(cooldown.model.clone());
        args.push(cooldown.until_ms.to_string());
        args.push(cooldown.class.as_str().to_owned());
    }
    args.push(d.usage.len().to_string());
    for bucket in &d.usage {
        args.push(bucket.span.as_str().to_owned());
        args.push(bucket.index.to_string());
        args.push(bucket.requests.to_string());
        args.push(bucket.tokens.to_string());
        args.push(bucket.leaves_window_at().to_string());
    }
    args
}

/// A record from `load.lua`'s row: the id, then hash field/value pairs.
/// Unknown fields are ignored, so a newer writer's extra fields do no harm.
pub(super) fn parse(row: &[String]) -> Result<KeyRecord, BackendError> {
    let Some((id, fields)) = row.split_first() else {
        return Err(BackendError::Malformed("empty row".into()));
    };
    let mut record = KeyRecord {
        id: id.clone(),
        ..KeyRecord::default()
    };
    for pair in fields.chunks(2) {
        let [field, value] = pair else {
            return Err(BackendError::Malformed(format!("odd field list for {id}")));
        };
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| BackendError::Malformed(format!("{field} of {id} is not a number")))
        };
        let text = || Some(value.clone()).filter(|v| !v.is_empty());
        let h = &mut record.health;
        match field.as_str() {
            "cooling_until_ms" => h.cooling_until_ms = number()?,
            "cooling_class" => h.cooling_class = class_from_str(value),
            "disabled_at_ms" => h.disabled_at_ms = number()?,
            "disabled_reason" => h.disabled_reason = text(),
            "reinstated_at_ms" => h.reinstated_at_ms = number()?,
            "requests" => record.requests = number()?,
            "last_class" => record.last_class = class_from_str(value),
            "last_reason" => record.last_reason = text(),
            "last_used_ms" => record.last_used_ms = number()?,
            other if other.starts_with("usage:") => {
                // "usage:SPAN:BUCKET:r|t|e"; an unreadable one is skipped.
                let mut parts = other["usage:".len()..].rsplitn(3, ':');
                let (kind, index, span) = (parts.next(), parts.next(), parts.next());
                let (Some(span), Some(index), Ok(n)) = (
                    span.and_then(Span::parse),
                    index.and_then(|i| i.parse::<u64>().ok()),
                    value.parse::<u64>(),
                ) else {
                    continue;
                };
                let mut bucket = UsageBucket {
                    span,
                    index,
                    requests: 0,
                    tokens: 0,
                };
                match kind {
                    Some("r") => bucket.requests = n,
                    Some("t") => bucket.tokens = n,
                    _ => continue,
                }
                keypool::budget::add(&mut record.usage, bucket);
            }
            other if other.starts_with("model:") => {
                // "UNTIL_MS CLASS"; an unreadable one is skipped, not fatal.
                let mut parts = value.splitn(2, ' ');
                let until = parts.next().and_then(|v| v.parse::<u64>().ok());
                let class = parts.next().and_then(class_from_str);
                if let (Some(until), Some(class)) = (until, class) {
                    h.cool_model_until(&other["model:".len()..], until, class);
                }
            }
            other => {
                if let Some(class) = class_from_str(other) {
                    record.outcomes.add(class, number()?);
                }
            }
        }
    }
    Ok(record)
}

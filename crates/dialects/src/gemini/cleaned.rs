//! Tool schemas cleaned for Gemini, remembered by their JSON text. A coding
//! agent sends the same tools on every turn, and cleaning a schema (a tree
//! built, rewritten and written out again) is the costly part of writing a
//! Gemini request; the cleaned form depends on the text alone. Bounded: the
//! memory is emptied when it holds too many schemas or bytes.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde_json::Value;

use super::schema;

/// At most this many schemas are remembered…
pub(super) const MAX_SCHEMAS: usize = 512;
/// …taking at most this many bytes of JSON text (both forms counted).
const MAX_BYTES: usize = 8 << 20;

#[derive(Default)]
struct CleanedSchemas {
    /// Schema text → its `parameters` JSON (`None`: the tool takes none).
    cleaned: HashMap<Box<str>, Option<Arc<str>>>,
    bytes: usize,
}

static CLEANED: LazyLock<Mutex<CleanedSchemas>> = LazyLock::new(Mutex::default);

/// The `parameters` JSON for a tool whose `input_schema` is the JSON text
/// `raw`, as [`schema::parameters`] makes it; `None` when the tool takes no
/// arguments.
pub(super) fn parameters(raw: &str) -> Option<Arc<str>> {
    if let Some(hit) = lock().cleaned.get(raw) {
        return hit.clone();
    }
    let schema: Value = serde_json::from_str(raw).ok()?;
    let cleaned: Option<Arc<str>> =
        schema::parameters(Some(&schema)).map(|p| Arc::from(p.to_string()));
    let mut memory = lock();
    let size = raw.len() + cleaned.as_deref().map_or(0, str::len);
    if memory.cleaned.len() >= MAX_SCHEMAS || memory.bytes + size > MAX_BYTES {
        *memory = CleanedSchemas::default();
    }
    if size <= MAX_BYTES {
        memory.bytes += size;
        memory.cleaned.insert(raw.into(), cleaned.clone());
    }
    cleaned
}

fn lock() -> std::sync::MutexGuard<'static, CleanedSchemas> {
    // The memory is a cache: whatever a panicking holder left is still valid.
    CLEANED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many schemas are remembered now.
#[cfg(test)]
pub(super) fn remembered() -> usize {
    lock().cleaned.len()
}

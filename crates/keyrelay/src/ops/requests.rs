//! The last requests the gateway served, in memory, for `GET /admin/requests`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::Serialize;

/// One request, without bodies or key material.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// Unix ms when the request arrived.
    pub at_ms: u64,
    /// The client API (`messages`, `count_tokens`, `passthrough`, …).
    pub front: &'static str,
    pub method: String,
    /// The path, without the query string (a Gemini client may put its key there).
    pub path: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub status: u16,
    /// Until the response ended (its last byte, for a stream).
    pub duration_ms: u64,
    /// Until the response head.
    pub head_ms: u64,
    /// Input tokens not read from or written to a cache.
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_read_tokens: Option<u64>,
    pub cache_write_tokens: Option<u64>,
    /// The virtual key that sent it, by name and id (never its secret).
    pub virtual_key: Option<Arc<str>>,
    pub virtual_key_id: Option<Arc<str>>,
    pub team: Option<Arc<str>>,
    /// What the answer cost in USD; `None` when nothing was booked or the
    /// model has no price (`cost` says which).
    pub cost_usd: Option<f64>,
    /// `priced`, `unpriced` (tokens counted, cost unknown) or `estimated`
    /// (the answer reported no usage); `None` when nothing was booked.
    pub cost: Option<&'static str>,
    /// Which fallback target served (0: the route itself).
    pub fallback: usize,
    pub attempts: Vec<AttemptEntry>,
    /// How the response ended: `complete`, `failed` (a stream that ended
    /// in an error event after its head), `client_gone` or `broken`.
    pub ended: &'static str,
    /// For a stream that failed after its head: the failure's outcome class.
    pub failure: Option<&'static str>,
}

/// One attempt of a request.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptEntry {
    pub provider: String,
    pub key: String,
    pub class: &'static str,
    pub status: Option<u16>,
    pub retry_after_s: Option<u64>,
    pub upstream_ms: Option<u64>,
}

/// A ring of the last [`RequestLog::CAPACITY`] requests.
pub struct RequestLog {
    ring: Mutex<VecDeque<RequestRecord>>,
}

impl RequestLog {
    pub const CAPACITY: usize = 1000;

    pub fn new() -> Self {
        RequestLog {
            ring: Mutex::new(VecDeque::with_capacity(64)),
        }
    }

    pub fn push(&self, record: RequestRecord) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        if ring.len() == Self::CAPACITY {
            ring.pop_front();
        }
        ring.push_back(record);
    }

    /// The newest `limit` requests, newest first.
    pub fn last(&self, limit: usize) -> Vec<RequestRecord> {
        self.last_of(limit, None)
    }

    /// The newest `limit` requests of the virtual key with id `key` (all
    /// when `None`), newest first.
    pub fn last_of(&self, limit: usize, key: Option<&str>) -> Vec<RequestRecord> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.iter()
            .rev()
            .filter(|r| key.is_none_or(|id| r.virtual_key_id.as_deref() == Some(id)))
            .take(limit)
            .cloned()
            .collect()
    }
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog::new()
    }
}

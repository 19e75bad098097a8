//! Which reply each request gets, and the log of requests received.

use std::collections::HashMap;

use crate::recorded::Recorded;
use crate::reply::Reply;

/// Replies used in order; the last one repeats forever.
#[derive(Debug)]
struct Script {
    replies: Vec<Reply>,
    next: usize,
}

impl Script {
    /// `None` for an empty list: there is nothing to repeat.
    fn new(replies: impl IntoIterator<Item = Reply>) -> Option<Script> {
        let replies: Vec<Reply> = replies.into_iter().collect();
        (!replies.is_empty()).then_some(Script { replies, next: 0 })
    }

    fn next_reply(&mut self) -> Reply {
        let last = self.replies.len() - 1;
        let reply = self.replies[self.next.min(last)].clone();
        self.next = self.next.saturating_add(1);
        reply
    }
}

/// The scripts and the request log, kept together so that the order of the log is
/// the order in which scripts were consumed.
/// Builds a reply from the request itself (for conversations whose next turn
/// depends on what the client sent).
pub(crate) type Responder = std::sync::Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

pub(crate) struct Ledger {
    by_key: HashMap<String, Script>,
    dynamic: HashMap<String, Responder>,
    fallback: Script,
    requests: Vec<Recorded>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("scripted_keys", &self.by_key.keys().collect::<Vec<_>>())
            .field("dynamic_keys", &self.dynamic.keys().collect::<Vec<_>>())
            .field("requests", &self.requests.len())
            .finish()
    }
}

impl Ledger {
    pub(crate) fn new() -> Ledger {
        Ledger {
            by_key: HashMap::new(),
            dynamic: HashMap::new(),
            fallback: default_fallback(),
            requests: Vec::new(),
        }
    }

    /// Replaces `key`'s script, starting again from its first reply. An empty list
    /// removes the script, so the key gets the fallback.
    pub(crate) fn set_script(&mut self, key: &str, replies: impl IntoIterator<Item = Reply>) {
        match Script::new(replies) {
            Some(script) => self.by_key.insert(key.to_owned(), script),
            None => self.by_key.remove(key),
        };
    }

    /// Answers every request with `key` by calling `responder` (replaces a script).
    pub(crate) fn set_responder(&mut self, key: &str, responder: Responder) {
        self.by_key.remove(key);
        self.dynamic.insert(key.to_owned(), responder);
    }

    /// Replaces the fallback script; an empty list restores the default
    /// (200 `{"ok":true}`).
    pub(crate) fn set_fallback(&mut self, replies: impl IntoIterator<Item = Reply>) {
        self.fallback = Script::new(replies).unwrap_or_else(default_fallback);
    }

    /// Logs `request` and returns the reply its key's script (or the fallback) gives.
    pub(crate) fn admit(&mut self, request: Recorded) -> Reply {
        if let Some(responder) = request.key.as_deref().and_then(|key| self.dynamic.get(key)) {
            let reply = responder(&request);
            self.requests.push(request);
            return reply;
        }
        let script = request
            .key
            .as_deref()
            .and_then(|key| self.by_key.get_mut(key))
            .unwrap_or(&mut self.fallback);
        let reply = script.next_reply();
        self.requests.push(request);
        reply
    }

    pub(crate) fn hits(&self, key: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.key.as_deref() == Some(key))
            .count()
    }

    pub(crate) fn requests(&self) -> &[Recorded] {
        &self.requests
    }
}

fn default_fallback() -> Script {
    Script {
        replies: vec![Reply::default()],
        next: 0,
    }
}

#[cfg(test)]
mod tests;

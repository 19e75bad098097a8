//! What became of a streamed answer after its head went out, for whoever
//! observes the response (request log, access log, metrics): the stream
//! loop fills a [`StreamReport`] as the stream ends, and the observer reads
//! it once the body is done.

use std::sync::{Arc, Mutex};

use keypool::{AttemptRecord, OutcomeClass};

/// Shared by the stream loop and the response's observer.
#[derive(Debug, Default)]
pub struct StreamReport(Mutex<Late>);

/// What a stream added to its request's record.
#[derive(Debug, Clone, Default)]
pub struct Late {
    /// The class of the failure the client's stream ended with; `None`
    /// when it ended complete (or its client went away).
    pub failure: Option<OutcomeClass>,
    /// What happened to attempts after the head, in order.
    pub attempts: Vec<LateAttempt>,
    /// Each time the stream broke and keyrelay asked for the rest: the
    /// provider it broke on, and the outcome.
    pub continuations: Vec<(String, ContinuationOutcome)>,
}

/// What came of a broken stream keyrelay tried to continue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContinuationOutcome {
    /// Another key (or target) finished the answer's next leg.
    Continued,
    /// No key or target could serve the rest.
    Exhausted,
    /// The answer so far cannot be continued exactly (thinking, a tool
    /// call, a target that does not continue prefilled turns).
    Inexact,
    /// The request made `max_continuations` already.
    Limit,
}

impl ContinuationOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ContinuationOutcome::Continued => "continued",
            ContinuationOutcome::Exhausted => "exhausted",
            ContinuationOutcome::Inexact => "inexact",
            ContinuationOutcome::Limit => "limit",
        }
    }
}

/// One fact about attempts learned after the response head.
#[derive(Debug, Clone)]
pub enum LateAttempt {
    /// The attempt serving the stream so far ended in this class (it broke).
    Ended(OutcomeClass),
    /// A new attempt (asking another key for the rest), on this provider.
    Made(String, AttemptRecord),
}

impl StreamReport {
    pub fn new() -> Arc<StreamReport> {
        Arc::new(StreamReport::default())
    }

    /// What the stream reported so far.
    pub fn read(&self) -> Late {
        self.lock().clone()
    }

    pub fn failed(&self, class: OutcomeClass) {
        self.lock().failure = Some(class);
    }

    pub fn attempt(&self, fact: LateAttempt) {
        self.lock().attempts.push(fact);
    }

    pub fn continuation(&self, provider: &str, outcome: ContinuationOutcome) {
        self.lock()
            .continuations
            .push((provider.to_owned(), outcome));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Late> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Late {
    /// `attempts` (the ones logged when the head went out) with what the
    /// stream learned after: a verdict on the attempt serving it, attempts
    /// made later.
    pub fn amend(&self, attempts: &mut Vec<(String, AttemptRecord)>) {
        for fact in &self.attempts {
            match fact {
                LateAttempt::Ended(class) => {
                    if let Some((_, last)) = attempts.last_mut() {
                        last.class = *class;
                    }
                }
                LateAttempt::Made(provider, record) => {
                    attempts.push((provider.clone(), record.clone()));
                }
            }
        }
    }
}

//! How one upstream attempt ended, from the key pool's point of view.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Who caused an attempt's result, which decides rotation and the key's penalty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    /// 2xx: the key works. Clears failure streaks.
    Success,
    /// The request itself is wrong (validation, unknown model, too large, location).
    /// Returned to the client at once; no rotation, no penalty.
    ClientError,
    /// The key is revoked, malformed or suspended: disabled until re-checked.
    KeyInvalid,
    /// The key's account has no credit left: cooling for hours.
    KeyNoCredit,
    /// A per-day quota is used up: cooling until the provider's daily reset.
    QuotaDaily,
    /// A short-window rate limit: cooling for the provider's hint, else backoff.
    RateLimited,
    /// Overload, 5xx, connection trouble or a timeout: rotate, cool only after a streak.
    Transient,
    /// The same transient or shared-limit signal on several keys at once: the
    /// provider, not the key, is failing. Stop rotating; no penalty.
    ProviderDown,
}

impl OutcomeClass {
    pub const ALL: [OutcomeClass; 8] = [
        OutcomeClass::Success,
        OutcomeClass::ClientError,
        OutcomeClass::KeyInvalid,
        OutcomeClass::KeyNoCredit,
        OutcomeClass::QuotaDaily,
        OutcomeClass::RateLimited,
        OutcomeClass::Transient,
        OutcomeClass::ProviderDown,
    ];

    /// Whether another key may succeed where this one failed.
    pub fn rotates(self) -> bool {
        matches!(
            self,
            OutcomeClass::KeyInvalid
                | OutcomeClass::KeyNoCredit
                | OutcomeClass::QuotaDaily
                | OutcomeClass::RateLimited
                | OutcomeClass::Transient
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeClass::Success => "success",
            OutcomeClass::ClientError => "client_error",
            OutcomeClass::KeyInvalid => "key_invalid",
            OutcomeClass::KeyNoCredit => "key_no_credit",
            OutcomeClass::QuotaDaily => "quota_daily",
            OutcomeClass::RateLimited => "rate_limited",
            OutcomeClass::Transient => "transient",
            OutcomeClass::ProviderDown => "provider_down",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for OutcomeClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified attempt: its class plus what the provider told us about when
/// to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub class: OutcomeClass,
    /// The provider's own reset hint (the longest of all it sent). On a
    /// success this means "the key has nothing left until then": park it.
    pub retry_after: Option<Duration>,
    /// Identifies a limit shared by several keys (e.g. a Gemini project quota
    /// id, or an HTTP status for transient errors). The same signature on two
    /// different keys within a few seconds makes the pool stop rotating.
    pub signature: Option<String>,
    /// False when the key should rotate but not be penalised (e.g. Gemini's
    /// `limit: 0`: this model is out of the key's tier, other models are fine).
    pub penalize: bool,
    /// A short, secret-free reason for logs and the key table (`invalid_api_key`).
    pub reason: Option<String>,
    /// Set when the limit is the model's, not the key's (a per-model quota):
    /// a rate limit or quota then cools the key for this model only. Key
    /// problems (invalid, no credit) stay key-wide whatever this says.
    pub model: Option<String>,
    /// The quota group the provider named (a Google Cloud project, an OpenAI
    /// organisation): keys in one group share their limits.
    pub group: Option<String>,
}

impl Outcome {
    pub fn new(class: OutcomeClass) -> Self {
        Outcome {
            class,
            retry_after: None,
            signature: None,
            penalize: true,
            reason: None,
            model: None,
            group: None,
        }
    }

    pub fn success() -> Self {
        Outcome::new(OutcomeClass::Success)
    }

    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    pub fn with_signature(mut self, signature: impl Into<String>) -> Self {
        self.signature = Some(signature.into());
        self
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Limits the cooldown to `model` (see [`Outcome::model`]).
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Whether this outcome cools one model only: a rate limit or quota
    /// that named a model.
    pub fn model_scope(&self) -> Option<&str> {
        match self.class {
            OutcomeClass::RateLimited | OutcomeClass::QuotaDaily => self.model.as_deref(),
            _ => None,
        }
    }

    /// Whether this outcome uses up a limit that every key of its group
    /// shares: a rate limit, a quota or an empty account.
    pub fn shared_by_group(&self) -> bool {
        self.penalize
            && matches!(
                self.class,
                OutcomeClass::RateLimited | OutcomeClass::QuotaDaily | OutcomeClass::KeyNoCredit
            )
    }

    pub fn without_penalty(mut self) -> Self {
        self.penalize = false;
        self
    }
}

impl From<OutcomeClass> for Outcome {
    fn from(class: OutcomeClass) -> Self {
        Outcome::new(class)
    }
}

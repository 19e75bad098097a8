//! LiteLLM's proxy, in front of any provider, answers for itself before it
//! asks one: `{"error":{"message","type","param","code"}}` with the status in
//! `code`. Its statuses do not mean what a provider's do — a budget error is
//! a 429 (400 in older releases, even 401 for end users) — so its `type` and
//! message decide:
//!
//! - `budget_exceeded` (or, before that type existed, "Budget has been
//!   exceeded" / "ExceededBudget" in the message): the virtual key, its team
//!   or its user has spent its budget → no credit, parked for hours. An
//!   end-user budget belongs to the request's `user`, not the key: every key
//!   would fail alike, so it is the client's error;
//! - `auth_error` / `token_not_found_in_db` on a 401: the virtual key is not
//!   known → invalid;
//! - `no_db_connection` on a 400: a proxy without a database accepts only its
//!   master key → this key is invalid there. (A 5xx `no_db_connection` is the
//!   database being down: transient, like any 5xx.)

use keypool::{Outcome, OutcomeClass};
use serde_json::Value;

use super::str_at;

/// LiteLLM's own error, if `json` is one; `None` leaves the body to the
/// OpenAI rules. The outcome is final: the status rules do not apply to it.
pub(super) fn classify_body(status: u16, json: Option<&Value>) -> Option<Outcome> {
    if status >= 500 {
        return None;
    }
    let error = json?.get("error").filter(|e| e.is_object())?;
    let kind = str_at(error, &["type"]);
    let message = str_at(error, &["message"]).unwrap_or("");
    let (class, reason) = if kind == Some("budget_exceeded") || is_budget_message(message) {
        if message.contains("End User") {
            (OutcomeClass::ClientError, "end_user_budget_exceeded")
        } else {
            (OutcomeClass::KeyNoCredit, "budget_exceeded")
        }
    } else if status == 400 && kind == Some("no_db_connection") {
        (OutcomeClass::KeyInvalid, "no_db_connection")
    } else if status == 401 && matches!(kind, Some("auth_error" | "token_not_found_in_db")) {
        (OutcomeClass::KeyInvalid, kind.unwrap_or("auth_error"))
    } else {
        return None;
    };
    Some(Outcome::new(class).with_reason(reason))
}

/// Budget errors from releases that typed them `auth_error` or not at all.
fn is_budget_message(message: &str) -> bool {
    message.starts_with("Budget has been exceeded")
        || message.starts_with("ExceededBudget:")
        || message.contains("exceeded budget for model=")
}

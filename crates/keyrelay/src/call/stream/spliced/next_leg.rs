//! Asking for the next leg of a broken answer: the request again, from the
//! target serving now down its chain, to targets that continue a prefilled
//! turn exactly, with the answer so far as the assistant's prefill.

use dialects::prefill::prefill_text;
use keypool::{Outcome, OutcomeClass, Refusal};

use super::{caught_up, Leg, Output, Spliced};
use crate::call::report::{ContinuationOutcome, LateAttempt};
use crate::call::resume::Resumed;
use crate::call::{cannot_serve, CallResult, Upstream, UpstreamBody, UpstreamResponse};
use crate::registry::Provider;

impl Spliced {
    /// The next leg: the request asked again, from the target serving now
    /// down the chain, with the answer so far as the assistant's prefill.
    pub(super) async fn continue_after(
        &mut self,
        outcome: &Outcome,
    ) -> Result<Leg, Option<ContinuationOutcome>> {
        if !outcome.class.rotates() {
            return Err(None);
        }
        if self.left == 0 {
            return Err(Some(ContinuationOutcome::Limit));
        }
        let text = self.splice.prefill().map_err(|why| {
            tracing::info!(%why, "the answer so far cannot be continued exactly");
            Some(ContinuationOutcome::Inexact)
        })?;
        let prefill = prefill_text(&text);
        let resume = self.continuation.resume.clone();
        // A forwarded stream's client gets the next leg from its encoder.
        let encoder = match &self.output {
            Output::Forward { .. } => match resume.encoder() {
                Ok(encoder) => Some(encoder),
                Err(why) => {
                    tracing::info!(%why, "no stream writer for the client: the answer cannot be continued");
                    return Err(Some(ContinuationOutcome::Inexact));
                }
            },
            Output::Encode(_) => None,
        };
        let mut asked = false;
        for n in self.continuation.at..resume.targets() {
            if !resume.continues(n) {
                continue;
            }
            let Resumed { target, translator } = match resume.target(n, prefill) {
                Ok(resumed) => resumed,
                Err(why) => {
                    tracing::info!(target = n, %why, "this target cannot continue the answer exactly");
                    continue;
                }
            };
            asked = true;
            let provider = target.provider.clone();
            let mut facts = target.facts.clone();
            facts.exclude = self
                .broke
                .iter()
                .filter(|(name, _)| name == provider.name())
                .map(|(_, key)| key.clone())
                .collect();
            let mut result = self.caller.call(&provider, &target.outbound, &facts).await;
            self.log_attempts(&provider, &result);
            let only_broken_left =
                matches!(&result, Err(refused) if refused.refusal == Refusal::AllTried);
            if only_broken_left
                && self.caller.same_key_retries > 0
                && outcome.class == OutcomeClass::Transient
            {
                // Only keys that broke could serve: one again, as the pool
                // allows after a transient failure.
                facts.exclude.clear();
                result = self.caller.call(&provider, &target.outbound, &facts).await;
                self.log_attempts(&provider, &result);
            }
            let settles = !cannot_serve(&result);
            match result {
                Ok(finished) if finished.class == OutcomeClass::Success => {
                    if let Upstream::Response(UpstreamResponse {
                        body: UpstreamBody::Stream(held),
                        ..
                    }) = finished.value
                    {
                        let model = target.facts.model.as_deref().unwrap_or_default();
                        let translator = translator.stream(model, &crate::call::message_id());
                        self.left -= 1;
                        self.continuation.at = n;
                        if let Some(encoder) = encoder {
                            self.output = Output::Encode(caught_up(encoder));
                        }
                        return Ok(Leg::new(provider, finished.key, held, translator));
                    }
                    // A whole answer cannot join a stream.
                    return Err(Some(ContinuationOutcome::Exhausted));
                }
                // An error no other target would fix.
                _ if settles => return Err(Some(ContinuationOutcome::Exhausted)),
                _ => {}
            }
        }
        Err(Some(if asked {
            ContinuationOutcome::Exhausted
        } else {
            ContinuationOutcome::Inexact
        }))
    }

    fn log_attempts(&self, provider: &Provider, result: &CallResult) {
        let log = match result {
            Ok(finished) => &finished.log,
            Err(refused) => &refused.log,
        };
        for record in log {
            self.report.attempt(LateAttempt::Made(
                provider.name().to_owned(),
                record.clone(),
            ));
        }
    }
}

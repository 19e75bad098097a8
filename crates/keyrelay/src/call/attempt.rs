//! One attempt with one key: send, read what decides the outcome (a whole
//! body, an error body, or a stream's first event), classify.

use std::time::SystemTime;

use http::HeaderMap;
use keypool::{ApiKey, Outcome, OutcomeClass};
use tokio::time::Instant;

use super::body::{self, Read, ReadLimits};
use super::first_event::{self, Held};
use super::{Caller, HeldStream, Upstream, UpstreamBody, UpstreamResponse, ERROR_BODY_LIMIT};
use crate::dialect::{self, framing_of, Framing};
use crate::transport::{BodyStream, Outbound, TransportFailure};

impl Caller {
    /// One attempt with one key, classified. `now` is wall time for hints;
    /// `deadline` bounds reading a whole answer.
    pub async fn attempt(
        &self,
        outbound: &Outbound,
        key: &ApiKey,
        now: SystemTime,
        deadline: Option<Instant>,
    ) -> (Outcome, Upstream) {
        let started = Instant::now();
        let head = match self.transport.send(outbound, key).await {
            Ok(head) => head,
            Err(err) => return failed(err.failure, err.message),
        };
        let (status, headers) = (head.status, head.headers);
        let framing = framing_of(&headers);
        let classify = |body: &[u8], headers: &HeaderMap| {
            dialect::classify(outbound.dialect, status, headers, body, now)
        };
        let answer = |outcome: Outcome, body, headers| {
            let in_band = (status.is_success() && outcome.class != OutcomeClass::Success)
                .then_some(outcome.class);
            let response = UpstreamResponse {
                status,
                headers,
                body,
                framing,
                in_band,
            };
            (outcome, Upstream::Response(response))
        };
        if !status.is_success() {
            let body = self.read_error_body(head.body).await;
            return answer(classify(&body, &headers), UpstreamBody::Full(body), headers);
        }
        if framing == Framing::Whole {
            let limits = ReadLimits {
                max_bytes: self.max_response_bytes,
                idle: Some(self.idle),
                deadline,
            };
            return match body::read(head.body, limits).await {
                Read::Whole(body) => {
                    answer(classify(&body, &headers), UpstreamBody::Full(body), headers)
                }
                Read::TooLarge { head, rest } => {
                    tracing::debug!(
                        limit = self.max_response_bytes,
                        "answer larger than limits.max_response_bytes: streamed through unchecked"
                    );
                    let body = UpstreamBody::Stream(HeldStream::new(
                        head,
                        rest,
                        framing,
                        outbound.dialect,
                    ));
                    answer(classify(b"", &headers), body, headers)
                }
                Read::Broken { reason, .. } => failed(TransportFailure::Reset, reason),
                Read::Stalled { reason, .. } => failed(TransportFailure::Stalled, reason),
            };
        }
        let first_event_by = started + self.transport.first_byte_timeout();
        match first_event::hold(framing, head.body, first_event_by).await {
            Held::Event {
                head,
                event,
                data,
                rest,
            } => {
                let error =
                    dialect::classify_stream_event(outbound.dialect, event.as_deref(), &data, now);
                match error {
                    Some(error) => {
                        body::drain(rest);
                        answer(error, UpstreamBody::Full(head), headers)
                    }
                    None => {
                        let body = UpstreamBody::Stream(HeldStream::new(
                            head,
                            rest,
                            framing,
                            outbound.dialect,
                        ));
                        answer(classify(b"", &headers), body, headers)
                    }
                }
            }
            Held::Ended => failed(
                TransportFailure::Reset,
                "upstream stream ended before its first event".into(),
            ),
            Held::Broken(message) => failed(TransportFailure::Reset, message),
            Held::TimedOut => failed(
                TransportFailure::FirstByteTimeout,
                "upstream sent no stream event in time".into(),
            ),
        }
    }

    /// At most [`ERROR_BODY_LIMIT`] bytes within the error-body deadline;
    /// whatever is left is drained in the background.
    async fn read_error_body(&self, stream: BodyStream) -> bytes::Bytes {
        let limits = ReadLimits {
            max_bytes: ERROR_BODY_LIMIT,
            idle: None,
            deadline: Some(Instant::now() + self.error_body),
        };
        match body::read(stream, limits).await {
            Read::Whole(body) => body,
            Read::TooLarge { head, rest } => {
                body::drain(rest);
                head.slice(..ERROR_BODY_LIMIT)
            }
            Read::Broken { partial, .. } | Read::Stalled { partial, .. } => partial,
        }
    }
}

fn failed(failure: TransportFailure, message: String) -> (Outcome, Upstream) {
    (failure.outcome(), Upstream::Failed { failure, message })
}

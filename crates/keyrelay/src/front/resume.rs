//! A client request kept for asking again: when its stream breaks, each
//! target of its chain can be sent the request with the answer so far as
//! the assistant's prefill — the client's own bytes with a last assistant
//! turn for a provider of the client's API, the hub request with one for
//! any other — and the client's stream writer continues the answer.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use dialects::anthropic::Thinking;
use dialects::client::{AnswerMeta, ClientApi, Head, Hub, HubRequest};
use dialects::prefill::with_prefill;
use dialects::{Dialect, StreamEncode};
use http::{HeaderMap, Uri};

use super::request::ClientCall;
use super::translated::{message_id, translated_call};
use crate::call::{Caller, Resume, Resumed, Target};
use crate::error::ApiError;
use crate::route::Route;
use crate::transport::headers::add_configured_headers;

/// How `call` is asked again for the rest of a broken stream, when it
/// streams and some provider of its `chain` continues them.
pub fn resume_of(
    call: &ClientCall<'_>,
    caller: &Caller,
    chain: &[Route],
) -> Option<Arc<dyn Resume>> {
    let continues = chain.iter().any(|r| caller.continues_streams(&r.provider));
    if !call.head.stream || !continues {
        return None;
    }
    let (uri, headers, body, head, session) = call.owned_parts();
    let resume = ResumeRequest {
        api: call.api,
        uri,
        headers,
        body,
        head,
        session,
        chain: chain.to_vec(),
        hub: OnceLock::new(),
    };
    Some(Arc::new(resume))
}
/// A request, its parts owned, and its chain.
pub struct ResumeRequest {
    pub api: &'static dyn ClientApi,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub head: Head,
    pub session: Option<String>,
    pub chain: Vec<Route>,
    /// The hub request, built when first needed.
    pub hub: OnceLock<Result<Hub, ApiError>>,
}

impl ResumeRequest {
    fn call(&self, body: Bytes) -> ClientCall<'_> {
        ClientCall::from_parts(
            self.api,
            &self.uri,
            &self.headers,
            body,
            self.head.clone(),
            self.session.clone(),
        )
    }

    fn hub(&self) -> Result<&Hub, String> {
        let hub = self.hub.get_or_init(|| {
            let call = self.call(self.body.clone());
            self.api
                .to_hub_shared(&call.request(), &self.body, &self.head)
                .map_err(ApiError::from)
        });
        hub.as_ref().map_err(|e| e.message.clone())
    }

    /// The hub request as owned values, to change.
    fn owned_hub(&self) -> Result<&dialects::anthropic::MessagesRequest, String> {
        self.hub()?
            .request
            .owned()
            .map_err(|e| e.message().to_owned())
    }

    fn native(&self, route: &Route) -> bool {
        let spec = &route.provider.spec;
        self.api.native_for(spec.dialect, spec.responses)
    }
}

impl Resume for ResumeRequest {
    fn targets(&self) -> usize {
        self.chain.len()
    }

    fn trackable(&self, n: usize) -> bool {
        self.chain
            .get(n)
            .is_some_and(|route| !self.native(route) || self.api.continues_natively())
    }

    fn continues(&self, n: usize) -> bool {
        let Some(route) = self.chain.get(n) else {
            return false;
        };
        let prefill = route.provider.spec.prefill_for(&route.model);
        prefill.continues() && (!self.native(route) || self.api.continues_natively())
    }

    fn target(&self, n: usize, prefill: &str) -> Result<Resumed, String> {
        let route = self.chain.get(n).cloned().ok_or("no such target")?;
        let provider = route.provider.clone();
        let mode = provider.spec.prefill_for(&route.model);
        if provider.spec.dialect == Dialect::Anthropic {
            let thinking = &self.owned_hub()?.thinking;
            if matches!(
                thinking,
                Some(Thinking::Enabled { .. } | Thinking::Other(_))
            ) {
                return Err("Anthropic does not continue a prefilled turn with thinking on".into());
            }
        }
        let translator = provider.spec.dialect.hub_translator();
        if self.native(&route) {
            let body = self
                .api
                .native_prefill(&self.body, prefill, mode)
                .map_err(|e| e.message().to_owned())?;
            let leg = self
                .call(Bytes::from(body))
                .forward_leg(route)
                .map_err(|e| e.message)?;
            return Ok(Resumed {
                target: leg.target,
                translator,
            });
        }
        let request = HubRequest::from(with_prefill(self.owned_hub()?, prefill));
        let call = self.call(self.body.clone());
        let facts = call.facts(route.model.clone());
        let mut outbound = translated_call(&provider, &request, &route.model)?;
        if mode == dialects::Prefill::PrefixFlag {
            let mut body: serde_json::Value =
                serde_json::from_slice(&outbound.body).map_err(|e| e.to_string())?;
            mode.mark(&mut body);
            outbound.body = Bytes::from(serde_json::to_vec(&body).map_err(|e| e.to_string())?);
        }
        add_configured_headers(
            &mut outbound.headers,
            call.headers(),
            &provider.spec.forward_headers,
        );
        Ok(Resumed {
            target: Target {
                provider,
                facts,
                outbound,
            },
            translator,
        })
    }

    fn encoder(&self) -> Result<Box<dyn StreamEncode>, String> {
        let hub = self.hub()?;
        let id = message_id();
        let created = self
            .chain
            .first()
            .map(|route| route.provider.pool.clock().wall())
            .and_then(|now| now.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let meta = AnswerMeta {
            id: &id,
            model: hub.request.model(),
            created,
        };
        Ok(hub.render.stream(&meta))
    }
}

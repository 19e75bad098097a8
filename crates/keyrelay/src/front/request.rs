//! A client request read once by its API's description, and made a leg for
//! each target: forwarded where the provider speaks the client's API,
//! translated through the hub everywhere else.

use std::sync::{Mutex, OnceLock};

use axum::extract::rejection::BytesRejection;
use bytes::Bytes;
use dialects::client::{ClientApi, ClientRequest, Head, Hub};
use http::{HeaderMap, Method, Uri};

use super::legs::{ForwardLeg, RoutedLeg};
use super::model_field::routed_body;
use super::session::session_of;
use super::translated::{translated_call, TranslatedLeg};
use crate::call::{Continuation, RequestFacts, Target};
use crate::error::ApiError;
use crate::gateway::Gateway;
use crate::route::{resolve, Route, RouteError};
use crate::transport::headers::{forwardable_request_headers, strip_key_param};
use crate::transport::Outbound;

/// A translated request made ahead of its leg (off the async workers),
/// for one provider and model.
struct Prepared {
    provider: String,
    model: String,
    outbound: Result<Outbound, String>,
}

/// A client request as the client sent it, read once for every target.
pub struct ClientCall<'a> {
    pub api: &'static dyn ClientApi,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    pub head: Head,
    /// The session a header or the body names, for session affinity.
    session: Option<String>,
    /// The hub request, built only when a target needs it translated.
    hub: OnceLock<Result<Hub, ApiError>>,
    /// The first target's translated request, when [`Self::translate_first`]
    /// made it.
    prepared: Mutex<Option<Prepared>>,
}

impl<'a> ClientCall<'a> {
    /// The request and its route.
    pub fn read(
        api: &'static dyn ClientApi,
        gateway: &Gateway,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<(Self, Route), ApiError> {
        let body =
            body.map_err(|rejection| ApiError::body_rejected(&rejection, gateway.max_body_bytes))?;
        // A head read from the body has scanned all of it already.
        if !api.model_in_body() {
            super::json_body::check(&body)?;
        }
        let head = api.head(&request(uri, &body))?;
        let route =
            resolve(&gateway.registry, &gateway.aliases, &head.model).map_err(|e| match e {
                RouteError::LocalServerOff(off) => ApiError::from(off),
                other => ApiError::invalid(other.to_string()),
            })?;
        let session = session_of(headers).or_else(|| head.session.clone());
        let call = ClientCall {
            api,
            uri,
            headers,
            body,
            head,
            session,
            hub: OnceLock::new(),
            prepared: Mutex::new(None),
        };
        Ok((call, route))
    }

    /// The body's size in bytes.
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// What the description reads.
    pub fn request(&self) -> ClientRequest<'_> {
        request(self.uri, &self.body)
    }

    /// The request as `route`'s provider takes it; a stream that breaks
    /// may be asked for the rest by `continuation`.
    pub fn leg(
        &self,
        route: Route,
        continuation: Option<Continuation>,
    ) -> Result<RoutedLeg<'_>, ApiError> {
        let spec = &route.provider.spec;
        if self.api.native_for(spec.dialect, spec.responses) {
            return self.forward_leg(route).map(|leg| {
                RoutedLeg::Forward(ForwardLeg {
                    continuation,
                    ..leg
                })
            });
        }
        let hub = self.hub()?;
        let prepared = self.take_prepared(&route);
        let facts = self.facts(route.model);
        let shape = self.api.error_shape();
        let leg = match prepared {
            Some(outbound) => {
                TranslatedLeg::with_outbound(route.provider, hub, facts, shape, outbound)
            }
            None => TranslatedLeg::new(route.provider, hub, facts, shape),
        };
        leg.map(|leg| leg.with_client_headers(self.headers))
            .map(|leg| leg.with_continuation(continuation))
            .map(RoutedLeg::Translate)
    }

    /// For a big body whose `route` translates it: the hub request and
    /// the translated request made now, off the async workers (see
    /// [`super::off_thread`]), for [`Self::leg`] to take. A panic there
    /// becomes the request's answer: keyrelay's internal error.
    pub async fn translate_first(&self, route: &Route) -> Result<(), ApiError> {
        let spec = &route.provider.spec;
        let native = self.api.native_for(spec.dialect, spec.responses);
        if native
            || self.body.len() < super::off_thread::OFF_THREAD_BYTES
            || self.hub.get().is_some()
        {
            return Ok(());
        }
        let (api, uri, body, head) = (
            self.api,
            self.uri.clone(),
            self.body.clone(),
            self.head.clone(),
        );
        let (provider, model) = (route.provider.clone(), route.model.clone());
        let made = super::off_thread::run(body.len(), move || {
            let hub = api
                .to_hub_shared(&request(&uri, &body), &body, &head)
                .map_err(ApiError::from)?;
            let outbound = translated_call(&provider, &hub.request, &model);
            Ok::<_, ApiError>((hub, outbound))
        })
        .await?;
        match made {
            Ok((hub, outbound)) => {
                log_dropped(self.api, &hub);
                let _ = self.hub.set(Ok(hub));
                if let Ok(mut prepared) = self.prepared.lock() {
                    *prepared = Some(Prepared {
                        provider: route.provider.name().to_owned(),
                        model: route.model.clone(),
                        outbound,
                    });
                }
            }
            Err(error) => {
                let _ = self.hub.set(Err(error));
            }
        }
        Ok(())
    }

    /// The translated request [`Self::translate_first`] made for `route`.
    fn take_prepared(&self, route: &Route) -> Option<Result<Outbound, String>> {
        let mut prepared = self.prepared.lock().ok()?;
        let fits = prepared
            .as_ref()
            .is_some_and(|p| p.provider == route.provider.name() && p.model == route.model);
        fits.then(|| prepared.take()).flatten().map(|p| p.outbound)
    }

    /// The request's parts, owned: to ask it again later.
    pub(super) fn owned_parts(&self) -> (Uri, HeaderMap, Bytes, Head, Option<String>) {
        (
            self.uri.clone(),
            self.headers.clone(),
            self.body.clone(),
            self.head.clone(),
            self.session.clone(),
        )
    }

    /// A request read before, from its parts.
    pub(super) fn from_parts(
        api: &'static dyn ClientApi,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: Bytes,
        head: Head,
        session: Option<String>,
    ) -> Self {
        ClientCall {
            api,
            uri,
            headers,
            body,
            head,
            session,
            hub: OnceLock::new(),
            prepared: Mutex::new(None),
        }
    }

    /// The client's headers.
    pub(super) fn headers(&self) -> &HeaderMap {
        self.headers
    }

    /// The client's bytes and query (less `key`), to the routed model.
    pub fn forward_leg(&self, route: Route) -> Result<ForwardLeg, ApiError> {
        let provider = route.provider;
        let request = self.request();
        let path = self.api.native_path(&request, &self.head, &route.model);
        let body = if self.api.model_in_body() {
            routed_body(&self.body, &self.head.model, &route.model)?
        } else {
            self.body.clone()
        };
        // The client's own credential never goes upstream.
        let query = self.uri.query().map(|q| match q.contains("key=") {
            true => std::borrow::Cow::Owned(strip_key_param(q)),
            false => std::borrow::Cow::Borrowed(q),
        });
        let query = query.filter(|q| !q.is_empty());
        let outbound = Outbound {
            method: Method::POST,
            url: provider.endpoint(&path, query.as_deref())?,
            headers: forwardable_request_headers(
                self.headers,
                provider.spec.dialect,
                &provider.spec.forward_headers,
            ),
            body,
            auth: provider.spec.auth.clone(),
            dialect: provider.spec.dialect,
        };
        Ok(ForwardLeg {
            target: Target {
                provider,
                facts: self.facts(route.model),
                outbound,
            },
            shape: self.api.error_shape(),
            continuation: None,
        })
    }

    /// What the pool weighs for this request sent to `model`.
    pub fn facts(&self, model: String) -> RequestFacts {
        RequestFacts::for_model(model).in_session(self.session.clone())
    }

    /// The hub request, for the first target that needs it translated.
    pub fn hub(&self) -> Result<&Hub, ApiError> {
        let hub = self.hub.get_or_init(|| {
            let hub = self
                .api
                .to_hub_shared(&self.request(), &self.body, &self.head)?;
            log_dropped(self.api, &hub);
            Ok(hub)
        });
        hub.as_ref().map_err(Clone::clone)
    }
}

fn log_dropped(api: &dyn ClientApi, hub: &Hub) {
    if !hub.dropped.is_empty() {
        tracing::debug!(api = api.name(), dropped = ?hub.dropped, "left out for a provider of another API");
    }
}

fn request<'b>(uri: &'b Uri, body: &'b Bytes) -> ClientRequest<'b> {
    ClientRequest {
        path: uri.path(),
        query: uri.query(),
        body,
    }
}

//! Gemini's own API (`/v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent`, `:countTokens`, the model list; `/v1/…` too),
//! so Gemini CLI (`GOOGLE_GEMINI_BASE_URL`) and the google-genai SDKs (a
//! base URL override) reach every provider. The model in the path routes
//! exactly as on `/v1/messages`, with the same pools, session affinity and
//! fallback chains; answers and keyrelay's own errors are in Gemini's shapes.
//!
//! - A Gemini provider gets the client's bytes and query (less `key`),
//!   only the path's model replaced when routing changed it, and its answer
//!   goes back as is, whole or streamed.
//! - Any other provider gets the request through the hub: Gemini → Anthropic
//!   Messages → the provider's own API, and its answer comes back the same
//!   way (a stream as `data:` events with `alt=sse`, else one JSON array).

mod count;
mod models;
mod path;

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dialects::anthropic::MessagesRequest;
use dialects::gemini::inbound::{GeminiFraming, GenerateContentRequest};
use http::{HeaderMap, Method, StatusCode, Uri};

use super::error::{ApiError, ErrorKind};
use super::fallback::{serve, RoutedLeg};
use super::forward::ForwardLeg;
use super::session::session_of;
use super::translated::{ClientApi, TranslatedLeg};
use super::{Gateway, Live};
use crate::call::RequestFacts;
use crate::dialect::Dialect;
use crate::route::{resolve, Route};
use crate::transport::headers::{forwardable_request_headers, strip_key_param};
use crate::transport::Outbound;
pub use models::{list, model, v1_models};
pub use path::{is_gemini, key_param};
use path::{wants_sse, ModelPath};

/// `POST /{version}/models/{model}:{method}`.
pub async fn call(
    State(live): State<Arc<Live>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let gateway = live.gateway();
    let (request, route) = match GeminiCall::read(&gateway, &uri, &headers, body) {
        Ok(read) => read,
        Err(error) => return error.in_shape(Dialect::Gemini).into_response(),
    };
    if request.target.method.as_deref() == Some("countTokens") {
        return count::count(&gateway, &request, route).await;
    }
    let chain: Vec<Route> = gateway.fallbacks.chain(&route).cloned().collect();
    let legs = std::iter::once(route)
        .chain(chain)
        .map(|route| request.leg(route));
    serve(&gateway, Dialect::Gemini, legs).await
}

/// A Gemini request as the client sent it, read once for every target.
struct GeminiCall<'a> {
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: Bytes,
    target: ModelPath,
    session: Option<String>,
    /// The hub request, built only when a target needs it translated.
    hub: OnceLock<Result<(MessagesRequest, ClientApi), ApiError>>,
}

impl<'a> GeminiCall<'a> {
    fn read(
        gateway: &Gateway,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: Result<Bytes, BytesRejection>,
    ) -> Result<(Self, Route), ApiError> {
        let body =
            body.map_err(|rejection| ApiError::body_rejected(&rejection, gateway.max_body_bytes))?;
        let target = ModelPath::parse(uri.path())
            .filter(|t| t.method.is_some())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorKind::NotFound,
                    format!(
                        "keyrelay has no route POST {}; Gemini clients use /v1beta/models/MODEL:generateContent, :streamGenerateContent or :countTokens",
                        uri.path()
                    ),
                )
            })?;
        let route = resolve(&gateway.registry, &gateway.aliases, &target.model)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        let call = GeminiCall {
            uri,
            headers,
            body,
            target,
            session: session_of(headers, None),
            hub: OnceLock::new(),
        };
        Ok((call, route))
    }

    /// The request as `route`'s provider takes it.
    fn leg(&self, route: Route) -> Result<RoutedLeg<'_>, ApiError> {
        let dialect = route.provider.spec.dialect;
        if dialect.is_native_for(Dialect::Gemini) {
            return self.forward_leg(route).map(RoutedLeg::Forward);
        }
        let (hub, client) = self.hub()?;
        let facts = self.facts(route.model);
        let leg = TranslatedLeg::new(route.provider, dialect.hub_translator(), hub, facts)?
            .for_client(*client);
        Ok(RoutedLeg::Translate(leg))
    }

    /// The client's bytes and query (less `key`), to the routed model.
    fn forward_leg(&self, route: Route) -> Result<ForwardLeg, ApiError> {
        let provider = route.provider;
        let method = self.target.method.as_deref().unwrap_or("generateContent");
        let path = format!("/{}/models/{}:{method}", self.target.version, route.model);
        let query = self
            .uri
            .query()
            .map(strip_key_param)
            .filter(|q| !q.is_empty());
        let outbound = Outbound {
            method: Method::POST,
            url: provider.endpoint(&path, query.as_deref())?,
            headers: forwardable_request_headers(self.headers),
            body: self.body.clone(),
            auth: provider.spec.auth.clone(),
            dialect: provider.spec.dialect,
        };
        Ok(ForwardLeg {
            provider,
            facts: self.facts(route.model),
            outbound,
            shape: Dialect::Gemini,
        })
    }

    fn facts(&self, model: String) -> RequestFacts {
        RequestFacts::for_model(model).in_session(self.session.clone())
    }

    /// The parsed request, for translation and token counting.
    fn parsed<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::invalid(format!("request body is not a valid Gemini request: {e}"))
        })
    }

    fn hub(&self) -> Result<&(MessagesRequest, ClientApi), ApiError> {
        let hub = self.hub.get_or_init(|| {
            let method = self.target.method.as_deref().unwrap_or_default();
            if !matches!(method, "generateContent" | "streamGenerateContent") {
                return Err(ApiError::invalid(format!(
                    "{method}: keyrelay translates generateContent, streamGenerateContent and countTokens for providers other than Gemini"
                )));
            }
            let request: GenerateContentRequest = self.parsed()?;
            let include_thoughts = request
                .generation_config
                .as_ref()
                .and_then(|c| c.thinking_config.as_ref())
                .and_then(|t| t.include_thoughts)
                .unwrap_or(false);
            let framing = if wants_sse(self.uri.query()) {
                GeminiFraming::Sse
            } else {
                GeminiFraming::JsonArray
            };
            let client = ClientApi::Gemini {
                framing,
                include_thoughts,
            };
            let hub = request
                .to_messages(&self.target.model, self.target.streams())
                .map_err(|e| ApiError::invalid(e.0))?;
            Ok((hub, client))
        });
        hub.as_ref().map_err(Clone::clone)
    }
}

//! `GET /v1beta/models` (and `/v1/models` for a Gemini client) and `GET
//! /v1beta/models/{model}`: the models keyrelay routes (alias names and
//! targets, as `/v1/models` lists them), in Gemini's list shape:
//! `models[].name` is `models/ID`, with `displayName` and the
//! `supportedGenerationMethods` keyrelay serves for it: for an embedding
//! model, `embedContent` and `batchEmbedContents`. keyrelay asks no
//! provider for its list, so a model is an embedding model when its
//! upstream name says so, as the providers name them (`text-embedding-3-small`,
//! `gemini-embedding-001`, `nomic-embed-text`, `embeddinggemma`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{json, Value};

use dialects::client::{key_param, ModelPath};

use crate::dialect::Dialect;
use crate::error::{ApiError, ErrorKind};
use crate::gateway::Live;
use crate::route::resolve;

/// What keyrelay serves for every model, whatever its provider.
const METHODS: &[&str] = &["generateContent", "streamGenerateContent", "countTokens"];
/// What keyrelay serves for an embedding model.
const EMBED_METHODS: &[&str] = &["embedContent", "batchEmbedContents"];

pub async fn list(State(live): State<Arc<Live>>) -> Json<Value> {
    let gateway = live.gateway();
    let mut ids: Vec<&String> = Vec::new();
    for (pattern, target) in gateway.aliases.rules() {
        for id in [pattern, target] {
            if !id.contains(['*', '?']) && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    let models: Vec<Value> = ids
        .into_iter()
        .map(|id| entry(id, owner(&live, id).as_ref()))
        .collect();
    Json(json!({ "models": models }))
}

/// `GET /v1/models`: Gemini's list for a Gemini client (its key header,
/// `x-goog-api-client` or `?key=`), else the list both SDK families read.
pub async fn v1_models(State(live): State<Arc<Live>>, uri: Uri, headers: HeaderMap) -> Response {
    let gemini = headers.contains_key("x-goog-api-key")
        || headers.contains_key("x-goog-api-client")
        || uri.query().and_then(key_param).is_some();
    if gemini {
        list(State(live)).await.into_response()
    } else {
        super::models::list(State(live)).await.into_response()
    }
}

/// `GET /{version}/models/{model}`: the model, when keyrelay routes it.
pub async fn model(State(live): State<Arc<Live>>, uri: Uri) -> Response {
    let target = ModelPath::parse(uri.path()).filter(|t| t.method.is_none());
    let owner = target.as_ref().and_then(|t| owner(&live, &t.model));
    match (target, owner) {
        (Some(target), Some(owner)) => Json(entry(&target.model, Some(&owner))).into_response(),
        (target, _) => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorKind::NotFound,
            format!(
                "keyrelay routes no model {}",
                target.map_or_else(|| uri.path().to_owned(), |t| format!("{:?}", t.model))
            ),
        )
        .in_shape(Dialect::Gemini)
        .into_response(),
    }
}

/// The provider `id` routes to, and its upstream model.
struct Owner {
    provider: String,
    model: String,
}

fn owner(live: &Live, id: &str) -> Option<Owner> {
    let gateway = live.gateway();
    resolve(&gateway.registry, &gateway.aliases, id)
        .ok()
        .map(|route| Owner {
            provider: route.provider.name().to_owned(),
            model: route.model,
        })
}

/// Whether an upstream model's name says it is an embedding model.
fn is_embedding_model(model: &str) -> bool {
    model.to_ascii_lowercase().contains("embed")
}

fn entry(id: &str, owner: Option<&Owner>) -> Value {
    let description = match owner {
        Some(owner) => format!("Served by keyrelay through {}", owner.provider),
        None => String::from("Not routed by keyrelay"),
    };
    let methods = match owner {
        Some(owner) if is_embedding_model(&owner.model) => EMBED_METHODS,
        _ => METHODS,
    };
    json!({
        "name": format!("models/{id}"),
        "baseModelId": id,
        "version": "keyrelay",
        "displayName": id,
        "description": description,
        "supportedGenerationMethods": methods,
    })
}

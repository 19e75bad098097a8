//! `GET /v1/models`: the models this gateway routes, in one list both SDK
//! families read. Each entry carries Anthropic's fields (`type`,
//! `display_name`, `created_at` as RFC 3339) and OpenAI's (`object`,
//! `created` as Unix seconds, `owned_by`), the list Anthropic's
//! (`has_more`, `first_id`, `last_id`) and OpenAI's (`object: "list"`);
//! each SDK ignores the other's fields.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::gateway::Live;
use crate::route::resolve;

/// Lists alias names (patterns without wildcards) and alias targets, so a
/// client's model picker shows what keyrelay will route. `owned_by` names
/// the provider the id routes to.
pub async fn list(State(live): State<Arc<Live>>) -> Json<Value> {
    let gateway = live.gateway();
    let mut ids: Vec<String> = Vec::new();
    for (pattern, target) in gateway.aliases.rules() {
        for id in [pattern, target] {
            if !id.contains(['*', '?']) && !ids.iter().any(|known| known == id) {
                ids.push(id.clone());
            }
        }
    }
    let data: Vec<Value> = ids
        .iter()
        .map(|id| {
            let owner = resolve(&gateway.registry, &gateway.aliases, id).map_or_else(
                |_| String::from("keyrelay"),
                |r| r.provider.name().to_owned(),
            );
            json!({
                "type": "model",
                "object": "model",
                "id": id,
                "display_name": id,
                "created_at": "1970-01-01T00:00:00Z",
                "created": 0,
                "owned_by": owner,
            })
        })
        .collect();
    Json(json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "first_id": ids.first(),
        "last_id": ids.last(),
    }))
}

//! `GET /v1/models`: the models this gateway routes, in Anthropic's list shape.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::Live;

/// Lists alias names (patterns without wildcards) and alias targets, so a
/// client's model picker shows what keyrelay will route.
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
        .map(|id| json!({"type": "model", "id": id, "display_name": id, "created_at": "1970-01-01T00:00:00Z"}))
        .collect();
    Json(json!({
        "data": data,
        "has_more": false,
        "first_id": ids.first(),
        "last_id": ids.last(),
    }))
}

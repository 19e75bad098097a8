//! `GET /admin/spend?by=key|team|model|provider|provider_key&from=DAY&to=DAY`:
//! spend summed over UTC days, as JSON or (`format=csv`) CSV, the same
//! report `keyrelay spend` prints.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::{HeaderValue, StatusCode};

use super::problem::problem;
use super::Ops;
use crate::gateway::Live;
use crate::team::report;

pub fn router() -> Router<Ops> {
    Router::new().route("/spend", get(spend))
}

const PARAMETERS: [&str; 4] = ["by", "from", "to", "format"];

async fn spend(
    State(live): State<Arc<Live>>,
    params: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Response {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let bad = |field: &str, message: String| {
        problem(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("{field}: {message}"),
        )
    };
    if let Some(unknown) = params.keys().find(|k| !PARAMETERS.contains(&k.as_str())) {
        let shown: String = unknown.chars().take(32).collect();
        return bad(
            &shown,
            "unknown parameter; use by, from, to and format".into(),
        );
    }
    let csv = match params.get("format").map(String::as_str) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return bad("format", "must be json or csv".into()),
    };
    let team = live.team();
    let query = match report::Query::parse(
        params.get("by").map(String::as_str),
        params.get("from").map(String::as_str),
        params.get("to").map(String::as_str),
        team.clock().now_ms(),
    ) {
        Ok(query) => query,
        Err(error) => return bad(error.field, error.message),
    };
    // What this replica spent a moment ago is written first.
    team.flush().await;
    let built = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        report::build(team.store().as_ref(), query),
    )
    .await
    .unwrap_or(Err(crate::store::team::TeamError::TimedOut(10_000)));
    let report = match built {
        Ok(report) => report,
        Err(error) => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                format!("the state store failed: {error}"),
            )
        }
    };
    if !csv {
        return Json(report.to_json()).into_response();
    }
    let mut response = report.to_csv().into_response();
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"keyrelay-spend-by-{}-{}-{}.csv\"",
        report.query.by.as_str(),
        report.query.from,
        report.query.to
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        headers.insert(http::header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Spend since the process started, by virtual key (`-` for requests
/// without one), team and `provider@model`, in Prometheus text. Virtual
/// keys are made by operators and models are the ones that answered, so
/// the label sets stay few.
pub fn metrics_text(team: &crate::team::Team, label: fn(&str) -> String) -> String {
    use std::fmt::Write;
    let totals = team.totals();
    let mut usd = String::from(
        "# HELP keyrelay_spend_usd_total USD spent on answers since start (priced models only), by virtual key, team and model.\n# TYPE keyrelay_spend_usd_total counter\n",
    );
    let mut tokens = String::from(
        "# HELP keyrelay_spend_tokens_total Tokens of answers since start, by virtual key, team, model and kind (input, output, cache_read, cache_write).\n# TYPE keyrelay_spend_tokens_total counter\n",
    );
    let mut requests = String::from(
        "# HELP keyrelay_spend_requests_total Answers booked since start, by virtual key, team, model and whether the model has a price.\n# TYPE keyrelay_spend_requests_total counter\n",
    );
    for ((key, team, model), c) in &totals {
        let labels = format!(
            "virtual_key=\"{}\",team=\"{}\",model=\"{}\"",
            label(key),
            label(team),
            label(model)
        );
        let _ = writeln!(
            usd,
            "keyrelay_spend_usd_total{{{labels}}} {}",
            c.usd_nanos as f64 / 1e9
        );
        for (kind, n) in [
            ("input", c.input_tokens),
            ("output", c.output_tokens),
            ("cache_read", c.cache_read_tokens),
            ("cache_write", c.cache_write_tokens),
        ] {
            let _ = writeln!(
                tokens,
                "keyrelay_spend_tokens_total{{{labels},kind=\"{kind}\"}} {n}"
            );
        }
        let priced = c.requests - c.unpriced_requests;
        let _ = writeln!(
            requests,
            "keyrelay_spend_requests_total{{{labels},priced=\"true\"}} {priced}"
        );
        let _ = writeln!(
            requests,
            "keyrelay_spend_requests_total{{{labels},priced=\"false\"}} {}",
            c.unpriced_requests
        );
    }
    usd + &tokens + &requests
}

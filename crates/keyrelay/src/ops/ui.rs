//! `/ui`: the dashboard, one page over the admin API, embedded in the binary
//! (plain HTML, CSS and JavaScript under `ops/ui/`; nothing fetched from
//! elsewhere, so it works offline).
//!
//! The page holds no data and no secret: it asks for an admin token, keeps
//! it in the tab's `sessionStorage` and sends it as `Authorization: Bearer`
//! to `/admin/*`. With no admin token configured `/admin` does not exist,
//! and neither does `/ui`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};

use super::Ops;
use crate::gateway::Live;

/// What the page may load and where it may connect: only this gateway.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file of the page: name under `/ui/`, content type, bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const PAGE: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("ui/index.html"),
};

/// The teams and virtual keys page, at `/ui/team`.
const TEAM_PAGE: Asset = Asset {
    name: "team",
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("ui/team.html"),
};

const ASSETS: [Asset; 5] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("ui/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("ui/app.css"),
    },
    Asset {
        name: "team.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("ui/team.js"),
    },
    Asset {
        name: "team.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("ui/team.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("ui/icon.svg"),
    },
];

/// Where a person opens the dashboard of a gateway listening on `addr` (a
/// wildcard address is reached on loopback).
pub fn url_for(addr: SocketAddr) -> String {
    let mut addr = addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}/ui")
}

pub fn router() -> Router<Ops> {
    Router::new()
        .route("/ui", get(page))
        .route("/ui/team", get(team_page))
        .route("/ui/{asset}", get(asset))
}

async fn page(State(live): State<Arc<Live>>) -> Response {
    // The page is never cached: it is where a signed-in session starts.
    serve(&live, Some(&PAGE), "no-store")
}

async fn team_page(State(live): State<Arc<Live>>) -> Response {
    serve(&live, Some(&TEAM_PAGE), "no-store")
}

async fn asset(State(live): State<Arc<Live>>, Path(name): Path<String>) -> Response {
    // Checked again on each load, so a new binary's page never runs an old script.
    serve(&live, ASSETS.iter().find(|a| a.name == name), "no-cache")
}

fn serve(live: &Live, asset: Option<&'static Asset>, cache: &'static str) -> Response {
    let mut response = match asset {
        _ if live.gateway().admin_tokens.is_empty() => (
            StatusCode::NOT_FOUND,
            "keyrelay: the dashboard is off, like the admin API; set server.admin_tokens or KEYRELAY_ADMIN_TOKENS\n",
        )
            .into_response(),
        Some(asset) => (
            [(header::CONTENT_TYPE, asset.content_type)],
            asset.body,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "keyrelay: the dashboard has no such file\n",
        )
            .into_response(),
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, cache),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

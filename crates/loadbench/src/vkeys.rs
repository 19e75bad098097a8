//! `loadbench vkeys`: what a request with a virtual key costs keyrelay
//! against one with a static access token. One keyrelay serves every row
//! (an access token, a virtual key without limits, and one with budgets
//! and rpm/tpm that its requests never come near); the rows take turns,
//! round after round, and each row's CPU per request is the median of its
//! rounds, so a noisy moment hurts one round of each row rather than one
//! row. Every request is an Anthropic passthrough of a priced model, so
//! spend is booked on every row.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request};
use http_body_util::{BodyExt, Full};

use crate::load;
use crate::rounds::{self, RoundsArgs, Row};

const TOKEN: &str = "bench-access-token-0000000000000";
const ADMIN: &str = "bench-admin-token-00000000000000";

pub fn run(args: &RoundsArgs) -> anyhow::Result<()> {
    let workers = args.workers;
    let (fake_addr, _fake) = crate::start_fake()?;
    let env = [
        ("KEYRELAY_ACCESS_TOKENS", TOKEN),
        ("KEYRELAY_ADMIN_TOKENS", ADMIN),
    ];
    let (addr, running) = crate::start_keyrelay(&args.keyrelay, fake_addr, workers, &env)?;
    let baseline = match &args.baseline {
        Some(path) => Some(crate::start_keyrelay(path, fake_addr, workers, &env)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let plain = runtime.block_on(make_key(addr, r#"{"name":"bench-plain"}"#))?;
    let limited = runtime.block_on(make_key(
        addr,
        r#"{"name":"bench-limited","budget_usd":{"day":1000000,"month":1000000},"rpm":1000000000,"tpm":1000000000}"#,
    ))?;
    let row = |name, credential: &str, addr, pid| -> anyhow::Result<Row> {
        Ok(Row {
            name,
            addr,
            pid,
            headers: vec![(
                HeaderName::from_static("x-api-key"),
                HeaderValue::from_str(credential)?,
            )],
        })
    };
    let mut rows = vec![
        row("static access token", TOKEN, addr, running.pid())?,
        row("virtual key", &plain, addr, running.pid())?,
        row(
            "virtual key with budgets, rpm and tpm",
            &limited,
            addr,
            running.pid(),
        )?,
    ];
    if let Some((addr, process)) = &baseline {
        rows.push(row(
            "static access token, baseline build",
            TOKEN,
            *addr,
            process.pid(),
        )?);
    }
    rounds::measure(&runtime, &rows, args, "credential", "the access token")
}

/// Makes a virtual key through the admin API; its secret.
async fn make_key(addr: SocketAddr, body: &'static str) -> anyhow::Result<String> {
    let mut sender = load::connect(addr).await?;
    let request = Request::post("/admin/virtual-keys")
        .header(http::header::HOST, "127.0.0.1")
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    anyhow::ensure!(
        status.as_u16() == 201,
        "making a virtual key: HTTP {status}"
    );
    let made: serde_json::Value = serde_json::from_slice(&bytes)?;
    made["key"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no key in the answer"))
}

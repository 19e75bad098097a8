//! `keyrelay spend`: the spend report `GET /admin/spend` gives, read from
//! the state store, as a table, JSON or CSV.

use super::output::{color_enabled, table, Tone};
use super::team_args::SpendArgs;
use super::vkeys::open;
use crate::env::Env;
use crate::team::report::{self, usd_text};

pub async fn run(args: SpendArgs, env: &dyn Env) -> anyhow::Result<i32> {
    let opened = open(&args.store, env)?;
    let query = report::Query::parse(
        Some(&args.by),
        args.from.as_deref(),
        args.to.as_deref(),
        keypool::Clock::system().now_ms(),
    )
    .map_err(|e| anyhow::anyhow!("--{}", e))?;
    let report = report::build(opened.team.as_ref(), query)
        .await
        .map_err(|e| anyhow::anyhow!("the state store failed: {e}"))?;
    if args.store.json {
        println!("{:#}", report.to_json());
    } else if args.csv {
        print!("{}", report.to_csv());
    } else if report.lines.is_empty() {
        println!(
            "No spend by {} from {} to {}.",
            report.query.by.as_str(),
            report.query.from,
            report.query.to
        );
    } else {
        let (header, rows) = report.table_rows();
        let rows: Vec<Vec<(String, Tone)>> = rows
            .into_iter()
            .map(|r| r.into_iter().map(|c| (c, Tone::Plain)).collect())
            .collect();
        print!("{}", table(&header, &rows, color_enabled(env)));
        println!(
            "total {} USD over {} requests, {} to {} (UTC)",
            usd_text(&report.total()),
            report.total().requests,
            report.query.from,
            report.query.to
        );
    }
    Ok(0)
}

//! The gateway's failover scenarios, table-driven over every front (client
//! API keyrelay serves) × every built-in provider that takes keys: for each
//! cell, each scenario ([`scenarios::SCENARIOS`]) whole and streamed, and
//! with an error inside the HTTP 200 stream where the provider has a real
//! one. A cell is forwarded as sent when the provider speaks the front's
//! API, else translated through the Anthropic Messages hub.
//!
//! Each front × provider cell is one test; its cases run concurrently, each
//! against its own fake upstream and gateway on 127.0.0.1, under its own
//! paused tokio clock (so timeouts take no time, and cooling and
//! `retry-after` are exact), and a failure names its front, provider,
//! scenario and mode.

#![allow(clippy::unwrap_used)]

mod exhaustion;
mod fronts;
mod passback;
mod providers;
mod replies;
mod rotation;
mod scenarios;
mod table;

#[path = "../support/fronts.rs"]
mod support;

use std::any::Any;

use fronts::Front;
use providers::Provider;
use scenarios::Case;

/// Runs every case of one cell at once, each on its own thread under its
/// own paused tokio clock (one case's timeout must not age another's
/// cooldowns), and reports each that failed.
fn cell(front: Front, provider: Provider) {
    let cases = Case::all(front, provider);
    let running: Vec<_> = cases
        .iter()
        .map(|&case| {
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .start_paused(true)
                    .build()
                    .unwrap()
                    .block_on(case.run())
            })
        })
        .collect();
    let mut failed = Vec::new();
    for (case, run) in cases.iter().zip(running) {
        if let Err(panic) = run.join() {
            failed.push(format!("{case}: {}", panic_text(panic)));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

fn panic_text(panic: Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// One test per front × provider: `front::provider`.
macro_rules! matrix {
    (fronts: [$($front:ident => $value:path),* $(,)?], providers: $providers:tt) => {
        $(
            mod $front {
                matrix!(@cells $value, $providers);
            }
        )*
    };
    (@cells $front:path, [$($provider:ident),* $(,)?]) => {
        $(
            #[test]
            fn $provider() {
                crate::cell($front, crate::table::$provider());
            }
        )*
    };
}

matrix! {
    fronts: [
        messages => crate::fronts::Front::Messages,
        chat => crate::fronts::Front::Chat,
        responses => crate::fronts::Front::Responses,
        gemini => crate::fronts::Front::Gemini,
    ],
    providers: [anthropic, openai, gemini, openrouter, ollama_cloud, litellm]
}

/// A provider added to keyrelay joins the table, or this fails.
#[test]
fn the_table_has_every_built_in_provider_that_takes_keys() {
    let built_in: Vec<String> = keyrelay::providers::builtin_providers()
        .into_iter()
        .filter(|p| p.needs_keys())
        .map(|p| p.name)
        .collect();
    let table: Vec<&str> = table::all().iter().map(|p| p.name).collect();
    assert_eq!(built_in, table);
}

//! Continuation (`[pool] continue_streams`), table-driven over every front
//! (client API) × every built-in provider that continues a prefilled turn
//! exactly × every way a stream breaks after content went out: a reset, a
//! silence past `timeouts.idle`, an error event inside the stream. The
//! first key's stream breaks after five pieces of text; the second key's
//! fake continues the prefilled turn exactly (it answers with the rest of
//! the text after the prefill the request carries). The client must get
//! the whole text exactly once, in one well-formed stream, and the request
//! log must show both attempts and a complete answer.
//!
//! Each front × provider cell is one test; its three breaks run at once,
//! each under its own paused tokio clock, against its own fake upstream
//! and gateway on 127.0.0.1.

#![allow(clippy::unwrap_used)]

mod answer;
mod cases;
mod providers;
mod refusals;
mod tools;

#[allow(dead_code)]
#[path = "../failover_matrix/fronts.rs"]
mod fronts;
#[path = "../support/fronts.rs"]
mod support;

use std::any::Any;

use cases::{Break, Case};
use fronts::Front;
use providers::Provider;

/// Runs the three breaks of one cell at once, each on its own thread under
/// its own paused clock, and reports each that failed.
fn cell(front: Front, provider: Provider) {
    let cases: Vec<Case> = Break::ALL
        .iter()
        .map(|&brk| Case {
            front,
            provider,
            brk,
        })
        .collect();
    let running: Vec<_> = cases
        .iter()
        .map(|&case| std::thread::spawn(move || paused(case.run())))
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

/// `test` on a current-thread runtime under a paused clock.
pub fn paused<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(test)
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
                crate::cell($front, crate::providers::$provider());
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
    providers: [anthropic, gemini, openrouter, ollama_cloud]
}

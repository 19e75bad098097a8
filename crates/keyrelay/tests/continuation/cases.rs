//! One case of the table: a front, a provider, and how the first key's
//! stream breaks.

use std::fmt;
use std::time::Duration;

use keyrelay::server::RunningGateway;
use serde_json::Value;
use testkit::{eventually_async, prefill_of, FakeUpstream, Reply};

use crate::fronts::Front;
use crate::providers::Provider;
use crate::support::{client, start};

/// The answer the table streams: 18 pieces (split after each space).
pub const FULL: &str =
    "The quick brown fox jumps over the lazy dog, and the cat watches it from the garden wall.";
/// Pieces of it the first key sends before its stream breaks.
pub const PIECES: usize = 5;
/// What the client has when it breaks, as the continuation's prefill.
pub const SENT: &str = "The quick brown fox jumps";

/// Obviously fake keys: the first one's stream breaks.
pub const BREAKS: &str = "test-key-breaks-000000000001";
pub const GOOD: &str = "test-key-good-00000000000003";
pub const ADMIN: &str = "admin-token-for-continuation";

/// How the first key's stream breaks after content went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// The connection is cut.
    Reset,
    /// The upstream goes silent past `timeouts.idle`.
    Stall,
    /// The provider's own error event (overloaded, provider disconnected…).
    Error,
}

impl Break {
    pub const ALL: [Break; 3] = [Break::Reset, Break::Stall, Break::Error];

    /// `provider`'s stream of `text`, broken this way after [`PIECES`] pieces.
    pub fn reply(self, provider: &Provider, text: &str) -> Reply {
        let n = provider.preamble() + PIECES;
        let stream = provider.stream(text);
        match self {
            Break::Reset => stream.cut_after(n),
            Break::Stall => stream.stall_after(n),
            Break::Error => stream.error_after(n, provider.error_event()),
        }
    }
}

/// A gateway with continuation on (and `extra` config), in front of
/// `upstream` for `provider`, keys [`BREAKS`] then [`GOOD`].
pub async fn gateway(upstream: &FakeUpstream, provider: &Provider, extra: &str) -> RunningGateway {
    let keys = format!("{BREAKS},{GOOD}");
    let config = format!(
        "[server]\nadmin_tokens = [\"{ADMIN}\"]\n[pool]\ncontinue_streams = true\n[timeouts]\nidle = 5\n{extra}"
    );
    start(
        &[
            (provider.keys_env, keys.as_str()),
            (provider.base_url_env, upstream.base_url().as_str()),
        ],
        &config,
    )
    .await
}

pub async fn admin_get(gateway: &RunningGateway, path: &str) -> String {
    client()
        .get(format!("{}{path}", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The newest request in the request log, once it is there.
pub async fn last_request(gateway: &RunningGateway) -> Value {
    eventually_async("the request is logged", Duration::from_secs(5), || async {
        let body: Value =
            serde_json::from_str(&admin_get(gateway, "/admin/requests?limit=1").await).unwrap();
        body["requests"].as_array().and_then(|r| r.first().cloned())
    })
    .await
}

/// The classes of a logged request's attempts.
pub fn classes(logged: &Value) -> Vec<String> {
    logged["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["class"].as_str().unwrap().to_owned())
        .collect()
}

/// The value of the metric line that starts with `prefix` and holds every
/// one of `labels`.
pub async fn metric(gateway: &RunningGateway, prefix: &str, labels: &[&str]) -> Option<f64> {
    let text = admin_get(gateway, "/metrics").await;
    text.lines()
        .find(|l| l.starts_with(prefix) && labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub front: Front,
    pub provider: Provider,
    pub brk: Break,
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} × {} × {:?}",
            self.front, self.provider.name, self.brk
        )
    }
}

impl Case {
    pub async fn run(self) {
        let upstream = FakeUpstream::start().await;
        upstream.on_key(BREAKS, [self.brk.reply(&self.provider, FULL)]);
        let provider = self.provider;
        upstream.on_key_with(GOOD, move |request| {
            provider.stream(testkit::rest_of(FULL, request))
        });
        let gateway = gateway(&upstream, &self.provider, "").await;
        let response = self.front.ask(&gateway, self.provider.model, true).await;
        assert_eq!(response.status(), 200);
        let body = response.text().await.expect("the stream ends cleanly");
        assert_eq!(self.front.streamed_text(&body), FULL, "{body}");
        crate::answer::one_answer(self.front, &body);

        let asked = upstream.requests_with_key(GOOD);
        assert_eq!(asked.len(), 1, "one continuation");
        assert_eq!(
            prefill_of(&asked[0]),
            SENT,
            "the answer so far, as the prefill"
        );

        let logged = last_request(&gateway).await;
        assert_eq!(logged["ended"], "complete", "{logged}");
        assert_eq!(logged["failure"], Value::Null, "{logged}");
        assert_eq!(classes(&logged), ["transient", "success"], "{logged}");
        // A Chat client sees usage only when it asks for it.
        let summed = self
            .provider
            .summed_input_tokens
            .filter(|_| self.front != Front::Chat);
        if let Some(input) = summed {
            assert_eq!(
                logged["input_tokens"], input,
                "both legs' usage: {logged}\n{body}"
            );
        }
        let continued = metric(
            &gateway,
            "keyrelay_stream_continuations_total{",
            &[
                "outcome=\"continued\"",
                &format!("provider=\"{}\"", self.provider.name),
            ],
        )
        .await;
        // The cases of a cell share one process, and so its metrics.
        assert!(continued.is_some_and(|n| n >= 1.0), "{continued:?}");
    }
}

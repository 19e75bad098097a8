//! The scenario half of the table, and what every case shares: a fresh
//! fake upstream and gateway whose provider has the case's keys, the
//! front's request, and readers of the pool's view of a key. What each
//! scenario does and checks is in `rotation`, `exhaustion` and `passback`.

use std::fmt;

use keypool::{KeySnapshot, KeyState};
use keyrelay::server::RunningGateway;
use testkit::FakeUpstream;

use crate::fronts::Front;
use crate::providers::{Failure, Hint, Provider};
use crate::support::{fingerprint, key_header, start};

/// Obviously fake keys, tried in this order.
pub const FIRST: &str = "test-key-matrix-first-00000001";
pub const SECOND: &str = "test-key-matrix-second-0000002";
pub const THIRD: &str = "test-key-matrix-third-00000003";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The first key is rate-limited (the provider's 429 and reset hint):
    /// the second serves, and the first cools for the hint.
    RateLimited,
    /// The first key's credit, budget or quota is spent: it is parked for
    /// long, and the second serves.
    OutOfQuota,
    /// The first key is rejected: it is disabled, and the second serves.
    InvalidKey,
    /// The provider fails the first attempt (5xx, overloaded, a dropped
    /// connection, an error inside a 200 stream): the second key serves.
    Overloaded,
    /// The first attempt gets no answer, or a stream no event, before the
    /// first-byte timeout: the second key serves.
    Silent,
    /// Both keys are rate-limited: keyrelay's own error in the front's
    /// shape, with the provider's status and every attempt; then the pool
    /// refuses without calling the provider until a key recovers.
    Exhausted,
    /// Both keys are rejected: the provider's status in the front's shape;
    /// then keyrelay says every key is disabled, naming them.
    AllInvalid,
    /// The same failure on two keys: the provider is down, so the third
    /// key is not tried.
    ProviderDown,
    /// The request itself is wrong: one attempt, the error passed back.
    ClientError,
}

pub const SCENARIOS: [Scenario; 9] = [
    Scenario::RateLimited,
    Scenario::OutOfQuota,
    Scenario::InvalidKey,
    Scenario::Overloaded,
    Scenario::Silent,
    Scenario::Exhausted,
    Scenario::AllInvalid,
    Scenario::ProviderDown,
    Scenario::ClientError,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Whole,
    Streamed,
    /// Streamed, the failure coming inside the HTTP 200 stream.
    InStream,
}

/// One cell of the table, one scenario, one mode.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub front: Front,
    pub provider: Provider,
    pub scenario: Scenario,
    pub mode: Mode,
}

impl Case {
    /// Every case of a front × provider cell.
    pub fn all(front: Front, provider: Provider) -> Vec<Case> {
        let mut cases = Vec::new();
        for scenario in SCENARIOS {
            let mut modes = vec![Mode::Whole, Mode::Streamed];
            if provider.in_stream(scenario, front).is_some() {
                modes.push(Mode::InStream);
            }
            for mode in modes {
                cases.push(Case {
                    front,
                    provider,
                    scenario,
                    mode,
                });
            }
        }
        cases
    }

    pub async fn run(self) {
        match self.scenario {
            Scenario::Exhausted => self.exhausts().await,
            Scenario::AllInvalid => self.disables_every_key().await,
            Scenario::ProviderDown => self.stops_rotating().await,
            Scenario::ClientError => self.passes_back().await,
            Scenario::RateLimited
            | Scenario::OutOfQuota
            | Scenario::InvalidKey
            | Scenario::Overloaded
            | Scenario::Silent => self.rotates().await,
        }
    }

    pub fn streamed(&self) -> bool {
        self.mode != Mode::Whole
    }

    pub fn failure(&self) -> Failure {
        match self.mode {
            Mode::InStream => self.provider.in_stream(self.scenario, self.front).unwrap(),
            Mode::Whole | Mode::Streamed => self.provider.failure(self.scenario),
        }
    }

    /// The upstream model: what the client asked for, less `provider@`.
    pub fn model(&self) -> &'static str {
        self.provider.model.split_once('@').unwrap().1
    }

    /// A fake upstream and a gateway whose provider has `keys`.
    pub async fn gateway(&self, keys: &[&str]) -> (FakeUpstream, RunningGateway) {
        let upstream = FakeUpstream::start().await;
        let keys = keys.join(",");
        let base_url = upstream.base_url();
        let env = [
            (self.provider.keys_env, keys.as_str()),
            (self.provider.base_url_env, base_url.as_str()),
        ];
        let gateway = start(&env, "").await;
        (upstream, gateway)
    }

    pub async fn ask(&self, gateway: &RunningGateway) -> reqwest::Response {
        self.front
            .ask(gateway, self.provider.model, self.streamed())
            .await
    }

    /// `response` if its status is `status`, else a panic showing its body.
    pub async fn expect(&self, response: reqwest::Response, status: u16) -> reqwest::Response {
        if response.status() == status {
            return response;
        }
        let got = response.status();
        let headers = format!("{:?}", response.headers());
        let body = response.text().await.unwrap_or_default();
        panic!("{self}: expected {status}, got {got}: {body}\n{headers}");
    }

    /// The gateway's wall clock (it follows the case's paused tokio clock).
    pub fn now(&self, gateway: &RunningGateway) -> std::time::SystemTime {
        let registry = &gateway.live.gateway().registry;
        registry
            .get(self.provider.name)
            .unwrap()
            .pool
            .clock()
            .wall()
    }

    pub fn key_state(&self, gateway: &RunningGateway, key: &str) -> KeySnapshot {
        let registry = &gateway.live.gateway().registry;
        let pool = registry.get(self.provider.name).unwrap().pool.clone();
        let shown = fingerprint(key);
        pool.snapshot()
            .into_iter()
            .find(|s| s.key.as_str() == shown)
            .unwrap()
    }

    /// The class and milliseconds left of a key's cooling, for every model
    /// or (a per-model quota) for the one asked.
    pub fn cooling(&self, key: &KeySnapshot) -> Option<(&'static str, u64)> {
        if key.state == KeyState::Cooling {
            return Some((key.cooling_class?.as_str(), key.cooldown_remaining_ms));
        }
        key.model_cooldowns
            .iter()
            .find(|c| c.model == self.model())
            .map(|c| (c.class.as_str(), c.remaining_ms))
    }

    /// One `x-keyrelay-attempt-log` entry: `PROVIDER:KEY=CLASS/STATUS[/HINTs]`.
    pub fn assert_logged(&self, entry: &str, key: &str, failure: &Failure) {
        let attempt = format!(
            "{}:{}={}/{}",
            self.provider.name,
            key_header(key),
            failure.class,
            failure.sent.logged_status()
        );
        match failure.hint {
            Hint::None => assert_eq!(entry, attempt, "{self}"),
            Hint::Secs(secs) => assert_eq!(entry, format!("{attempt}/{secs}s"), "{self}"),
            Hint::Daily => {
                let secs = entry
                    .strip_prefix(&format!("{attempt}/"))
                    .and_then(|hint| hint.strip_suffix('s'))
                    .and_then(|secs| secs.parse::<u64>().ok());
                assert!(
                    secs.is_some_and(|s| (1..=25 * 3600).contains(&s)),
                    "{self}: {entry} is not {attempt} with a daily reset"
                );
            }
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Whole => "whole",
            Mode::Streamed => "streamed",
            Mode::InStream => "streamed, failing inside the stream",
        };
        write!(
            f,
            "{} front × {} provider × {} ({mode})",
            self.front, self.provider, self.scenario
        )
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scenario::RateLimited => "rate_limited",
            Scenario::OutOfQuota => "out_of_quota",
            Scenario::InvalidKey => "invalid_key",
            Scenario::Overloaded => "overloaded",
            Scenario::Silent => "silent",
            Scenario::Exhausted => "exhausted",
            Scenario::AllInvalid => "all_invalid",
            Scenario::ProviderDown => "provider_down",
            Scenario::ClientError => "client_error",
        })
    }
}

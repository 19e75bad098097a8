//! When no key can serve: keyrelay's own error in the front's shape, with
//! the provider's status, its `retry-after` and every attempt listed; and
//! what the next request meets — the pool's refusal while every key cools,
//! "every key is disabled" once all were rejected.

use serde_json::{json, Value};

use crate::fronts::FrontError;
use crate::providers::{Hint, Sent};
use crate::replies::{failing, sidecar};
use crate::scenarios::{Case, FIRST, SECOND, THIRD};
use crate::support::{attempts, fingerprint, header, key_header};

impl Case {
    /// Every key rate-limited.
    pub async fn exhausts(self) {
        let (upstream, gateway) = self.gateway(&[FIRST, SECOND]).await;
        let failure = self.failure();
        let now = self.now(&gateway);
        upstream.on_key(FIRST, [failing(failure.sent, now)]);
        upstream.on_key(SECOND, [failing(failure.sent, now)]);
        // A rate limit inside a 200 stream is a 429 all the same.
        let (status, upstream_said) = match failure.sent {
            Sent::Fixture { status, name } => (status, upstream_retry_after(name)),
            _ => (429, None),
        };

        let response = self.expect(self.ask(&gateway).await, status).await;
        assert_eq!(attempts(&response), 2, "{self}");
        assert_eq!(
            header(&response, "x-keyrelay-provider"),
            self.provider.name,
            "{self}"
        );
        // The provider's own `retry-after`, else its hint.
        let expected = upstream_said.or(match failure.hint {
            Hint::Secs(secs) => Some(secs),
            Hint::None | Hint::Daily => None,
        });
        assert_eq!(retry_after(&response), expected, "{self}");
        let error = self.front.error(response).await;
        assert_eq!(error.kind, self.front.kind_of(status), "{self}");
        let second = if self.provider.account_wide_429 {
            "provider_down"
        } else {
            failure.class
        };
        self.assert_lists(&error, &[(FIRST, failure.class), (SECOND, second)]);

        let first = self.key_state(&gateway, FIRST);
        let Some((_, remaining)) = self.cooling(&first) else {
            panic!("{self}: not cooling: {first:?}");
        };
        if self.provider.account_wide_429 {
            // Only the first key cools: the next request tries the second,
            // and meets the account's limit again.
            let again = self.expect(self.ask(&gateway).await, status).await;
            let log = header(&again, "x-keyrelay-attempt-log").to_owned();
            let entry = format!(
                "{}:{}=provider_down/{}",
                self.provider.name,
                key_header(SECOND),
                failure.sent.logged_status()
            );
            assert!(log.starts_with(&entry), "{self}: the next request: {log}");
            assert_eq!(upstream.hits(SECOND), 2, "{self}: the next request");
            return;
        }
        // Both keys cool: the pool answers itself, with the earliest recovery.
        let refused = self.expect(self.ask(&gateway).await, 429).await;
        assert_eq!(attempts(&refused), 0, "{self}: the refusal");
        let earliest = remaining.div_ceil(1000).max(1);
        assert_eq!(retry_after(&refused), Some(earliest), "{self}: the refusal");
        let error = self.front.error(refused).await;
        assert_eq!(error.kind, self.front.kind_of(429), "{self}: the refusal");
        assert!(
            error.message.contains("cooling"),
            "{self}: {}",
            error.message
        );
        assert_eq!(error.attempts, Some(json!([])), "{self}: the refusal");
        assert_eq!(
            upstream.total_hits(),
            2,
            "{self}: the refusal touched no upstream"
        );
    }

    /// Every key rejected: the provider's answer, then keyrelay's "every key
    /// is disabled" without calling the provider.
    pub async fn disables_every_key(self) {
        let (upstream, gateway) = self.gateway(&[FIRST, SECOND]).await;
        let failure = self.failure();
        let now = self.now(&gateway);
        upstream.on_key(FIRST, [failing(failure.sent, now)]);
        upstream.on_key(SECOND, [failing(failure.sent, now)]);
        let Sent::Fixture { status, .. } = failure.sent else {
            panic!("{self}: an invalid key needs an HTTP status");
        };

        let response = self.expect(self.ask(&gateway).await, status).await;
        assert_eq!(attempts(&response), 2, "{self}");
        let error = self.front.error(response).await;
        assert_eq!(error.kind, self.front.kind_of(status), "{self}");
        self.assert_lists(&error, &[(FIRST, "key_invalid"), (SECOND, "key_invalid")]);

        let refused = self.expect(self.ask(&gateway).await, 503).await;
        assert_eq!(attempts(&refused), 0, "{self}: the refusal");
        let error = self.front.error(refused).await;
        assert_eq!(
            error.kind,
            self.front.kind("authentication_error"),
            "{self}"
        );
        for key in [FIRST, SECOND] {
            let named = error.message.contains(&fingerprint(key));
            assert!(named, "{self}: {} names no {key}", error.message);
        }
        assert!(
            error.message.contains("disabled"),
            "{self}: {}",
            error.message
        );
        assert_eq!(
            upstream.total_hits(),
            2,
            "{self}: the refusal touched no upstream"
        );
    }

    /// The same failure on two keys: the provider is down, the third key
    /// is spared.
    pub async fn stops_rotating(self) {
        let (upstream, gateway) = self.gateway(&[FIRST, SECOND, THIRD]).await;
        let failure = self.failure();
        let now = self.now(&gateway);
        upstream.on_key(FIRST, [failing(failure.sent, now)]);
        upstream.on_key(SECOND, [failing(failure.sent, now)]);
        upstream.on_key(THIRD, [self.provider.good(self.front, self.streamed()).0]);
        // An error status stays; an answer that never came, or an error
        // inside a 200, is a bad gateway.
        let status = match failure.sent {
            Sent::Fixture { status, .. } => status,
            _ => 502,
        };

        let response = self.expect(self.ask(&gateway).await, status).await;
        assert_eq!(attempts(&response), 2, "{self}");
        let error = self.front.error(response).await;
        assert_eq!(error.kind, self.front.kind_of(status), "{self}");
        let down = format!("keyrelay: {} looks down", self.provider.name);
        assert!(
            error.message.starts_with(&down),
            "{self}: {}",
            error.message
        );
        self.assert_lists(&error, &[(FIRST, failure.class), (SECOND, "provider_down")]);
        assert_eq!(upstream.hits(THIRD), 0, "{self}: the third key was tried");
    }

    /// keyrelay's message names the provider; its `attempts` list each
    /// key with its class.
    fn assert_lists(&self, error: &FrontError, expected: &[(&str, &str)]) {
        let prefix = format!("keyrelay: {}", self.provider.name);
        assert!(
            error.message.starts_with(&prefix),
            "{self}: {}",
            error.message
        );
        let listed = error
            .attempts
            .as_ref()
            .unwrap_or_else(|| panic!("{self}: no attempts"));
        let listed: Vec<(&Value, &Value)> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (&a["key"], &a["class"]))
            .collect();
        let expected: Vec<(Value, Value)> = expected
            .iter()
            .map(|(key, class)| (json!(fingerprint(key)), json!(class)))
            .collect();
        let expected: Vec<(&Value, &Value)> = expected.iter().map(|(k, c)| (k, c)).collect();
        assert_eq!(listed, expected, "{self}");
    }
}

/// `retry-after` in whole seconds.
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    let value = header(response, "retry-after");
    (!value.is_empty()).then(|| value.parse().unwrap())
}

/// The `retry-after` of an error fixture's `.headers` sidecar.
fn upstream_retry_after(name: &str) -> Option<u64> {
    sidecar(name)
        .into_iter()
        .find(|(header, _)| header.eq_ignore_ascii_case("retry-after"))
        .map(|(_, value)| value.parse().unwrap())
}

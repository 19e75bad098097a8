//! A client error is the request's answer: one attempt, no second key, no
//! penalty, and the provider's error passed back — as it wrote it when the
//! front speaks its API, else in the front's shape with its words.

use keypool::KeyState;
use serde_json::Value;

use crate::providers::Sent;
use crate::replies::{failing, fixture_text};
use crate::scenarios::{Case, FIRST, SECOND};
use crate::support::{attempts, header};

impl Case {
    pub async fn passes_back(self) {
        let (upstream, gateway) = self.gateway(&[FIRST, SECOND]).await;
        let failure = self.failure();
        upstream.on_key(FIRST, [failing(failure.sent, self.now(&gateway))]);
        upstream.on_key(SECOND, [self.provider.good(self.front, self.streamed()).0]);
        let Sent::Fixture { status, name } = failure.sent else {
            panic!("{self}: a client error needs an HTTP status");
        };

        let response = self.expect(self.ask(&gateway).await, status).await;
        assert_eq!(attempts(&response), 1, "{self}");
        let log = header(&response, "x-keyrelay-attempt-log").to_owned();
        self.assert_logged(&log, FIRST, &failure);
        if self.provider.native_for(self.front) {
            let body = response.text().await.unwrap();
            assert_eq!(body, fixture_text(name), "{self}: the provider's own body");
        } else {
            let error = self.front.error(response).await;
            assert_eq!(error.kind, self.front.kind_of(status), "{self}");
            assert_eq!(error.message, provider_message(name), "{self}");
            assert_eq!(error.attempts, None, "{self}");
        }
        assert_eq!(upstream.hits(SECOND), 0, "{self}: no failover");
        let first = self.key_state(&gateway, FIRST);
        assert_eq!(
            first.state,
            KeyState::Available,
            "{self}: no penalty: {first:?}"
        );
    }
}

/// The provider's own words in an error fixture (`error.message`, or
/// Ollama's `error` string).
fn provider_message(name: &str) -> String {
    let body: Value = serde_json::from_str(&fixture_text(name)).unwrap();
    let error = &body["error"];
    error["message"]
        .as_str()
        .or(error.as_str())
        .unwrap()
        .to_owned()
}

//! The first key fails, the second serves: the client sees only the
//! success, the headers tell how it came about, both attempts sent the same
//! request, and the pool penalises the first key as its failure deserves.

use keypool::{KeySnapshot, KeyState};
use testkit::FakeUpstream;

use crate::providers::{Failure, Hint};
use crate::replies::failing;
use crate::scenarios::{Case, FIRST, SECOND};
use crate::support::{attempts, header, key_header};

impl Case {
    pub async fn rotates(self) {
        let (upstream, gateway) = self.gateway(&[FIRST, SECOND]).await;
        let failure = self.failure();
        upstream.on_key(FIRST, [failing(failure.sent, self.now(&gateway))]);
        let (good, text) = self.provider.good(self.front, self.streamed());
        upstream.on_key(SECOND, [good]);

        let response = self.expect(self.ask(&gateway).await, 200).await;
        assert_eq!(
            header(&response, "x-keyrelay-provider"),
            self.provider.name,
            "{self}"
        );
        assert_eq!(
            header(&response, "x-keyrelay-model"),
            self.model(),
            "{self}"
        );
        assert_eq!(
            header(&response, "x-keyrelay-key"),
            key_header(SECOND),
            "{self}"
        );
        assert_eq!(attempts(&response), 2, "{self}");
        let log = header(&response, "x-keyrelay-attempt-log").to_owned();
        let entries: Vec<&str> = log.split(", ").collect();
        assert_eq!(entries.len(), 2, "{self}: {log}");
        self.assert_logged(entries[0], FIRST, &failure);
        assert_eq!(
            entries[1],
            format!("{}:{}=success/200", self.provider.name, key_header(SECOND)),
            "{self}: {log}"
        );
        assert_eq!(
            self.front.text(response, self.streamed()).await,
            text,
            "{self}"
        );
        self.assert_sent_alike(&upstream);
        self.assert_penalised(&self.key_state(&gateway, FIRST), &failure);

        // The failed key is passed over from now on.
        let again = self.expect(self.ask(&gateway).await, 200).await;
        assert_eq!(
            (attempts(&again), header(&again, "x-keyrelay-key")),
            (1, key_header(SECOND).as_str()),
            "{self}: the next request"
        );
        assert_eq!(upstream.hits(FIRST), 1, "{self}: the next request");
    }

    /// One attempt per key, each the same request bar the key (the body is
    /// buffered once and replayed), none with the client's own credential.
    fn assert_sent_alike(&self, upstream: &FakeUpstream) {
        let sent = upstream.requests();
        let keys: Vec<Option<&str>> = sent.iter().map(|r| r.key.as_deref()).collect();
        assert_eq!(keys, [Some(FIRST), Some(SECOND)], "{self}");
        let (first, second) = (&sent[0], &sent[1]);
        assert_eq!(
            (&first.method, &first.path, &first.query, &first.body),
            (&second.method, &second.path, &second.query, &second.body),
            "{self}: the second attempt sent another request"
        );
        for request in &sent {
            let leaked = request.headers.values().any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.contains("client-own-credential"))
            });
            assert!(!leaked, "{self}: the client's credential went upstream");
        }
    }

    /// The pool's penalty for the key that failed.
    fn assert_penalised(&self, key: &KeySnapshot, failure: &Failure) {
        let hours = 3_600_000;
        match failure.class {
            "key_invalid" => assert_eq!(key.state, KeyState::Disabled, "{self}: {key:?}"),
            "transient" => assert_eq!(key.state, KeyState::Available, "{self}: {key:?}"),
            class => {
                let Some((cooling_class, remaining)) = self.cooling(key) else {
                    panic!("{self}: not cooling: {key:?}");
                };
                assert_eq!(cooling_class, class, "{self}: {key:?}");
                let fits = match (class, failure.hint) {
                    (_, Hint::Secs(secs)) => remaining.div_ceil(1000) == secs,
                    ("key_no_credit", _) => remaining >= hours,
                    (_, Hint::Daily) => (1..=25 * hours).contains(&remaining),
                    // No hint: backoff from a second.
                    _ => (1..=2000).contains(&remaining),
                };
                assert!(fits, "{self}: cooling {remaining} ms for {failure:?}");
            }
        }
    }
}

//! The per-request attempt log the executor returns.

use std::time::Duration;

use super::*;

fn record(
    key: &str,
    class: OutcomeClass,
    status: Option<u16>,
    retry_after_secs: Option<u64>,
    reason: Option<&str>,
) -> AttemptRecord {
    AttemptRecord {
        key: ApiKey::new(key, Some(key)).fingerprint().clone(),
        class,
        status,
        retry_after: retry_after_secs.map(Duration::from_secs),
        reason: reason.map(str::to_owned),
        elapsed: Duration::ZERO,
    }
}

#[tokio::test(start_paused = true)]
async fn the_attempt_log_names_every_attempt_in_order() {
    let pool = pool(&["bad", "busy", "good"]);
    let script = Script::default();
    script
        .on(
            "bad",
            [class(OutcomeClass::KeyInvalid).with_reason("invalid_api_key")],
        )
        .on("busy", [limited(30).with_reason("rate_limit_exceeded")]);
    let done = script.run(&pool).await.unwrap();
    assert_eq!(
        done.log,
        [
            record(
                "bad",
                OutcomeClass::KeyInvalid,
                Some(401),
                None,
                Some("invalid_api_key")
            ),
            record(
                "busy",
                OutcomeClass::RateLimited,
                Some(429),
                Some(30),
                Some("rate_limit_exceeded")
            ),
            record("good", OutcomeClass::Success, Some(200), None, None),
        ]
    );
    // The next request starts a log of its own.
    assert_eq!(script.run(&pool).await.unwrap().log.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_exhausted_pool_logs_each_key_once() {
    let pool = pool(&["a", "b", "c"]);
    let script = Script::default();
    for k in ["a", "b", "c"] {
        script.on(k, [limited(10)]);
    }
    let done = script.run(&pool).await.unwrap();
    let expected: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|k| record(k, OutcomeClass::RateLimited, Some(429), Some(10), None))
        .collect();
    assert_eq!(done.log, expected);
    assert_eq!(done.log.len() as u32, done.attempts);
}

#[tokio::test(start_paused = true)]
async fn the_log_keeps_the_class_the_pool_settled_on() {
    let pool = pool(&["a", "b", "c"]);
    let script = Script::default();
    script
        .on("a", [transient("529")])
        .on("b", [transient("529")]);
    let done = script.run(&pool).await.unwrap();
    let classes: Vec<_> = done.log.iter().map(|r| r.class).collect();
    assert_eq!(
        classes,
        [OutcomeClass::Transient, OutcomeClass::ProviderDown],
        "the second 529 made the pool stop: that is what the log says"
    );
}

#[tokio::test(start_paused = true)]
async fn a_same_key_retry_is_its_own_entry_and_a_failed_connection_has_no_status() {
    let pool = pool(&["a"]);
    let done = pool
        .execute(&ExecuteOptions::default(), |attempt| async move {
            if attempt.number == 1 {
                AttemptReply {
                    open: false,
                    outcome: transient("connect").with_reason("connect_failed"),
                    value: (),
                    status: None,
                }
            } else {
                AttemptReply {
                    open: false,
                    outcome: Outcome::success(),
                    value: (),
                    status: Some(200),
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(
        done.log,
        [
            record(
                "a",
                OutcomeClass::Transient,
                None,
                None,
                Some("connect_failed")
            ),
            record("a", OutcomeClass::Success, Some(200), None, None),
        ]
    );
}

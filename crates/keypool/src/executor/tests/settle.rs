//! Answers that settle later (streams) and keys a request already tried.

use super::*;

/// Every answer a stream: a success only opens it.
async fn streaming(pool: &KeyPool, script: &Script) -> Finished<String> {
    pool.execute(&ExecuteOptions::default(), |attempt| {
        let reply = AttemptReply {
            open: true,
            ..script.answer(&attempt)
        };
        async move { reply }
    })
    .await
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_breaks_is_counted_once_as_the_failure_it_was() {
    let pool = pool(&["a"]);
    let done = streaming(&pool, &Script::default()).await;
    assert_eq!(done.class, OutcomeClass::Success);
    assert_eq!(state_of(&pool, "a").requests, 0, "counted when it ends");
    assert_eq!(state_of(&pool, "a").inflight, 0);
    pool.settle(&done.key, &transient("stream_broken")).await;
    let a = state_of(&pool, "a");
    assert_eq!(a.requests, 1);
    assert_eq!(a.outcomes.get(OutcomeClass::Success), 0);
    assert_eq!(a.outcomes.get(OutcomeClass::Transient), 1);
    assert_eq!(a.last_class, Some(OutcomeClass::Transient));
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_ends_well_is_counted_as_a_success_when_it_ends() {
    let pool = pool(&["a"]);
    let done = streaming(&pool, &Script::default()).await;
    pool.settle(&done.key, &Outcome::success()).await;
    let a = state_of(&pool, "a");
    assert_eq!((a.requests, a.outcomes.get(OutcomeClass::Success)), (1, 1));
    assert_eq!(a.failures, 0);
}

#[tokio::test(start_paused = true)]
async fn a_success_that_opens_a_stream_parks_its_key_at_once() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    let spent = Outcome::success().with_retry_after(Some(Duration::from_secs(30)));
    script.on("a", [spent]);
    let done = streaming(&pool, &script).await;
    assert_eq!(done.key.as_str(), "a");
    // Not settled yet, but its "none left" hint already keeps it out.
    let next = script.run(&pool).await.unwrap();
    assert_eq!(next.key.as_str(), "b");
}

#[tokio::test(start_paused = true)]
async fn excluded_keys_are_not_picked() {
    let pool = pool(&["a", "b"]);
    let script = Script::default();
    let a = state_of(&pool, "a").key;
    let options = ExecuteOptions {
        exclude: vec![a],
        ..ExecuteOptions::default()
    };
    let done = script.run_with(&pool, &options).await.unwrap();
    assert_eq!(done.key.as_str(), "b");
    assert_eq!(script.hits("a"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_request_that_tried_every_key_is_refused_as_such() {
    let pool = pool(&["a"]);
    let options = ExecuteOptions {
        exclude: vec![state_of(&pool, "a").key],
        ..ExecuteOptions::default()
    };
    let refused = Script::default()
        .run_with(&pool, &options)
        .await
        .unwrap_err();
    assert_eq!(refused.refusal, Refusal::AllTried);
    assert!(refused.log.is_empty());
}

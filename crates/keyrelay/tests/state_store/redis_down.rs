//! Redis dies under load: every request still succeeds, one warning is
//! logged, and the key state reaches Redis again once it is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use keyrelay::store::redis::RedisStore;
use testkit::{FakeUpstream, RedisServer, Reply};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_answers_every_request_while_redis_dies_and_resyncs_when_it_returns() {
    let mut server = RedisServer::start().await;
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::anthropic_message("hello")]);
    let env = anthropic_env(&upstream, &[INVALID, GOOD]);
    let gateway = serve(&env, &["--state", &server.url()]).await;
    let store = RedisStore::new(&server.url()).unwrap();
    let client = client();

    assert_eq!(ask(&client, &gateway.url).await, (200, 2));
    let disabled_in_redis = || async {
        stored(&store, "anthropic", INVALID)
            .await
            .is_some_and(|r| r.health.is_disabled())
    };
    eventually(
        "the disabled key in Redis",
        Duration::from_secs(5),
        disabled_in_redis,
    )
    .await;

    // A steady stream of requests, bounded in count and time.
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (client, url, stop) = (client.clone(), gateway.url.clone(), stop.clone());
        async move {
            let mut answers = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !stop.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
                answers.push(ask(&client, &url).await);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            answers
        }
    });

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().await;
    // Long enough for several refreshes (1 s) and writes to fail.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    server.restart().await;
    eventually(
        "the resync to restore the record",
        Duration::from_secs(10),
        disabled_in_redis,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);

    let answers = load.await.unwrap();
    assert!(answers.len() > 20, "only {} requests", answers.len());
    assert!(
        answers.iter().all(|&answer| answer == (200, 1)),
        "every request succeeds on the good key: {answers:?}"
    );
    assert_eq!(upstream.hits(INVALID), 1);
    let warnings = gateway.log_lines(&["WARN", "state store"]);
    assert_eq!(warnings.len(), 1, "one warning per 30 s: {warnings:#?}");
    assert_eq!(gateway.log_lines(&["state store answers again"]).len(), 1);
    gateway.stop().await;
}

//! Redis dies under load: every request still succeeds, one warning is
//! logged, and the key state reaches Redis again once it is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyrelay::store::redis::RedisStore;
use testkit::{eventually, eventually_async, FakeUpstream, RedisServer, Reply};

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
    eventually_async(
        "the disabled key in Redis",
        Duration::from_secs(5),
        disabled_in_redis,
    )
    .await;

    // A steady stream of requests until the test says stop.
    let answers = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (client, url) = (client.clone(), gateway.url.clone());
        let (answers, stop) = (answers.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::SeqCst) {
                let answer = ask(&client, &url).await;
                answers.lock().unwrap().push(answer);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let answered = || answers.lock().unwrap().len();

    eventually(
        "requests before Redis dies",
        Duration::from_secs(10),
        || answered() >= 5,
    )
    .await;
    server.kill().await;
    let answered_at_kill = answered();
    eventually(
        "the warning that the state store is down",
        Duration::from_secs(10),
        || !gateway.log_lines(&["WARN", "state store"]).is_empty(),
    )
    .await;
    // Part of the scenario, not a wait: Redis stays down past the writer's
    // next retry (1 s apart), so more than one write fails behind the warning.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    eventually(
        "requests while Redis is down",
        Duration::from_secs(10),
        || answered() >= answered_at_kill + 10,
    )
    .await;
    server.restart().await;
    eventually_async(
        "the resync to restore the record",
        Duration::from_secs(10),
        disabled_in_redis,
    )
    .await;
    eventually(
        "the note that the state store answers again",
        Duration::from_secs(10),
        || !gateway.log_lines(&["state store answers again"]).is_empty(),
    )
    .await;
    let answered_at_resync = answered();
    eventually("requests after the resync", Duration::from_secs(10), || {
        answered() >= answered_at_resync + 5
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    load.await.unwrap();

    let answers = answers.lock().unwrap().clone();
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{eventually, eventually_async, POLL_EVERY};

#[tokio::test(start_paused = true)]
async fn a_check_that_passes_at_once_does_not_wait() {
    let started = Instant::now();
    eventually("a true check", Duration::from_secs(1), || true).await;
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn returns_the_value_of_the_first_check_that_passes() {
    let started = Instant::now();
    let mut calls = 0;
    let value = eventually("the third call", Duration::from_secs(1), || {
        calls += 1;
        (calls == 3).then_some(calls * 10)
    })
    .await;
    assert_eq!(value, 30);
    assert_eq!(started.elapsed(), POLL_EVERY * 2);
}

#[tokio::test(start_paused = true)]
async fn waits_on_the_tokio_clock_for_what_another_task_does() {
    let done = Arc::new(AtomicBool::new(false));
    tokio::spawn({
        let done = done.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            done.store(true, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    eventually("the task to finish", Duration::from_secs(60), || {
        done.load(Ordering::SeqCst)
    })
    .await;
    // Half a minute of virtual time: the test itself takes no time at all.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_secs(30) + POLL_EVERY,
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn checks_once_more_at_the_bound() {
    let within = Duration::from_millis(95);
    let started = Instant::now();
    eventually("the bound itself", within, || started.elapsed() >= within).await;
    assert_eq!(started.elapsed(), within);
}

#[tokio::test(start_paused = true)]
async fn awaits_an_async_check() {
    let mut calls = 0;
    let value = eventually_async("a slow answer", Duration::from_secs(5), || {
        calls += 1;
        let n = calls;
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            (n == 2).then_some("ready")
        }
    })
    .await;
    assert_eq!(value, "ready");
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "timed out after 60s waiting for the door to open")]
async fn panics_naming_what_it_waited_for() {
    eventually("the door to open", Duration::from_secs(60), || false).await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "timed out after 1s waiting for three visitors; last saw 2")]
async fn the_panic_shows_what_a_result_check_last_saw() {
    let mut visitors = 0;
    eventually("three visitors", Duration::from_secs(1), || {
        visitors = (visitors + 1).min(2);
        if visitors == 3 {
            Ok(())
        } else {
            Err(visitors)
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "timed out after 1s waiting for an answer; last saw a check that had not finished"
)]
async fn a_check_that_never_finishes_is_abandoned_at_the_bound() {
    eventually_async("an answer", Duration::from_secs(1), || {
        std::future::pending::<bool>()
    })
    .await;
}

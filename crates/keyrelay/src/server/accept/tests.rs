use std::time::Duration;

use super::InFlight;

const IDLE: Duration = Duration::from_secs(60);

/// Polls `idle` until the paused clock reaches `at` (from the test's start).
async fn done_by(
    idle: &mut std::pin::Pin<Box<impl std::future::Future<Output = ()>>>,
    at: Duration,
    start: tokio::time::Instant,
) -> bool {
    tokio::time::timeout_at(start + at, idle.as_mut())
        .await
        .is_ok()
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_nothing_in_flight_is_idle_after_the_limit() {
    let start = tokio::time::Instant::now();
    let mut idle = Box::pin(InFlight::default().idle_for(IDLE));
    assert!(!done_by(&mut idle, IDLE - Duration::from_millis(1), start).await);
    assert!(done_by(&mut idle, IDLE + Duration::from_millis(1), start).await);
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_keeps_it_open_and_idleness_counts_from_its_end() {
    let start = tokio::time::Instant::now();
    let in_flight = InFlight::default();
    let mut idle = Box::pin(in_flight.clone().idle_for(IDLE));
    let busy = in_flight.begin();
    // A long stream: far beyond the idle limit, the connection stays.
    assert!(!done_by(&mut idle, IDLE * 5, start).await);
    drop(busy);
    let ended = IDLE * 5;
    assert!(!done_by(&mut idle, ended + IDLE - Duration::from_millis(1), start).await);
    assert!(done_by(&mut idle, ended + IDLE + Duration::from_millis(1), start).await);
}

#[tokio::test(start_paused = true)]
async fn a_new_request_restarts_the_idle_clock() {
    let start = tokio::time::Instant::now();
    let in_flight = InFlight::default();
    let mut idle = Box::pin(in_flight.clone().idle_for(IDLE));
    assert!(!done_by(&mut idle, IDLE / 2, start).await);
    drop(in_flight.begin());
    let ended = IDLE / 2;
    assert!(!done_by(&mut idle, ended + IDLE - Duration::from_millis(1), start).await);
    assert!(done_by(&mut idle, ended + IDLE + Duration::from_millis(1), start).await);
}

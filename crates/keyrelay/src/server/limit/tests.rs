use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use super::Holding;

#[tokio::test]
async fn a_body_keeps_its_slot_until_it_ends() {
    let slots = Arc::new(Semaphore::new(1));
    let slot = slots.clone().try_acquire_owned().unwrap();
    let mut body = Holding::new(Body::from("hello"), slot);
    assert_eq!(slots.available_permits(), 0);
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "hello");
    assert!(body.frame().await.is_none());
    assert_eq!(
        slots.available_permits(),
        1,
        "released at the end, body still alive"
    );
}

#[tokio::test]
async fn a_dropped_body_gives_its_slot_back() {
    let slots = Arc::new(Semaphore::new(1));
    let slot = slots.clone().try_acquire_owned().unwrap();
    let endless = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    let body = Holding::new(Body::from_stream(endless), slot);
    assert_eq!(slots.available_permits(), 0);
    drop(body);
    assert_eq!(slots.available_permits(), 1);
}

use super::*;

#[tokio::test(flavor = "current_thread")]
async fn big_work_runs_off_the_async_thread_even_on_one_thread() {
    let here = std::thread::current().id();
    let small = run(OFF_THREAD_BYTES - 1, move || std::thread::current().id())
        .await
        .unwrap();
    assert_eq!(small, here);
    let big = run(OFF_THREAD_BYTES, move || std::thread::current().id())
        .await
        .unwrap();
    assert_ne!(big, here);
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_off_the_async_thread_is_an_internal_error() {
    let error = run(OFF_THREAD_BYTES, || -> u8 { panic!("request data here") })
        .await
        .unwrap_err();
    assert_eq!(error.status, 500);
    assert!(!error.message.contains("request data"), "{}", error.message);
    assert!(
        error.message.contains("internal error"),
        "{}",
        error.message
    );
}

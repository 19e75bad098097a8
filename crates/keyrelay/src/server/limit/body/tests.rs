use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Frame;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::TimedBody;
use crate::error::BodyTooSlow;

const T: Duration = Duration::from_secs(10);
const MIB: usize = 1024 * 1024;

/// A request body fed chunk by chunk; it ends when the sender is dropped.
struct Fed(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Fed {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

/// A body that receives `chunks` of `size` bytes, one every `every`, then
/// stalls (`end` false) or ends.
fn fed(chunks: usize, size: usize, every: Duration, end: bool) -> TimedBody<Fed> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(async move {
        for _ in 0..chunks {
            tokio::time::sleep(every).await;
            if sender.send(Bytes::from(vec![b'x'; size])).await.is_err() {
                return;
            }
        }
        if !end {
            std::future::pending::<()>().await;
        }
    });
    TimedBody::new(Fed(receiver), T)
}

/// Reads `body` to its end: the bytes read, or how long until it failed.
async fn read(mut body: TimedBody<Fed>) -> Result<usize, Duration> {
    let start = Instant::now();
    let mut read = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => read += frame.into_data().map_or(0, |d| d.len()),
            Err(error) => {
                assert!(error.downcast_ref::<BodyTooSlow>().is_some(), "{error}");
                return Err(start.elapsed());
            }
        }
    }
    Ok(read)
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_comes_fails_after_the_timeout() {
    let failed_after = read(fed(0, 0, T, false)).await.unwrap_err();
    assert_eq!(failed_after, T);
}

#[tokio::test(start_paused = true)]
async fn a_trickle_fails_after_about_the_timeout_though_it_never_pauses_that_long() {
    let failed_after = read(fed(1_000, 1, T / 10, false)).await.unwrap_err();
    assert!(
        failed_after >= T && failed_after < T + T / 10,
        "{failed_after:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_large_upload_at_twice_the_pace_runs_for_many_timeouts() {
    // 2 MiB per T, 24 MiB in all: 12 T.
    let chunks = 96;
    let start = Instant::now();
    let read = read(fed(chunks, MIB / 4, T / 8, true)).await;
    assert_eq!(read, Ok(chunks * MIB / 4));
    assert!(start.elapsed() >= T * 12);
}

#[tokio::test(start_paused = true)]
async fn an_upload_slower_than_the_pace_fails_once_it_falls_behind() {
    // Half a MiB per T: the allowance after t is T + t/2, behind from 2 T.
    let failed_after = read(fed(1_000, MIB / 16, T / 8, false)).await.unwrap_err();
    assert!(
        failed_after > T * 3 / 2 && failed_after < T * 5 / 2,
        "{failed_after:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pause_after_much_progress_fails_one_timeout_after_the_last_bytes() {
    // 8 MiB at once earns 9 T of allowance, but the pause limit comes first.
    let failed_after = read(fed(8, MIB, Duration::ZERO, false)).await.unwrap_err();
    assert_eq!(failed_after, T);
}

#[tokio::test(start_paused = true)]
async fn a_whole_body_does_not_fail_later() {
    let mut body = fed(1, 5, Duration::ZERO, true);
    let frame = body.frame().await.unwrap().unwrap();
    assert_eq!(frame.into_data().unwrap(), "xxxxx");
    assert!(body.frame().await.is_none());
    tokio::time::sleep(T * 3).await;
    assert!(body.frame().await.is_none());
}

use std::time::Duration;

use serde_json::json;

use super::{Body, Ending, Reply};

#[test]
fn header_replaces_the_constructor_content_type() {
    let reply = Reply::json(200, json!({})).header("content-type", "text/plain");
    let values: Vec<_> = reply.headers.get_all("content-type").iter().collect();
    assert_eq!(values, ["text/plain"]);
}

#[test]
fn stream_modifiers_set_the_ending_and_delay() {
    let reply = Reply::ndjson([json!(1), json!(2)])
        .stall_after(1)
        .chunk_delay(Duration::from_millis(7));
    let Body::Chunks(chunks) = reply.body else {
        panic!("ndjson is streamed");
    };
    assert_eq!(chunks.ending, Ending::StallAfter(1));
    assert_eq!(chunks.delay, Some(Duration::from_millis(7)));
}

#[test]
#[should_panic(expected = "streamed replies only")]
fn cut_after_on_a_whole_body_is_a_test_bug() {
    let _ = Reply::json(200, json!({})).cut_after(1);
}

#[test]
#[should_panic(expected = "bad status code 1000")]
fn an_impossible_status_is_a_test_bug() {
    let _ = Reply::json(1000, json!({}));
}

#[test]
fn in_chunks_sends_the_same_bytes_in_about_equal_chunks() {
    let reply = Reply::raw(200, "application/json", "0123456789").in_chunks(3);
    let Body::Chunks(chunks) = reply.body else {
        panic!("in_chunks makes a chunked body");
    };
    assert_eq!(chunks.items, ["0123", "4567", "89"]);
    assert_eq!(chunks.ending, Ending::Complete);
    assert_eq!(reply.headers["content-type"], "application/json");
}

#[test]
fn then_repeat_adds_a_generated_tail_to_a_stream() {
    let reply = Reply::chunks(200, "application/json", ["{\"pad\":\""]).then_repeat("aaaa", 3);
    let Body::Chunks(chunks) = reply.body else {
        panic!("chunks makes a chunked body");
    };
    assert_eq!(chunks.items, ["{\"pad\":\""]);
    assert_eq!(chunks.repeat, Some((bytes::Bytes::from("aaaa"), 3)));
}

use std::time::{Duration, UNIX_EPOCH};

use keypool::OutcomeClass;

use super::*;

fn clock() -> Clock {
    Clock::starting_at(UNIX_EPOCH + Duration::from_secs(1_768_478_400))
}

#[tokio::test(start_paused = true)]
async fn an_anthropic_error_event_after_content_is_found_with_its_class() {
    let mut watch = Watch::new(Dialect::Anthropic, Framing::Sse, clock());
    watch.feed(b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"an error is fine\"}}\n\nevent: err");
    assert!(watch.found().is_none());
    watch.feed(b"or\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    assert_eq!(
        watch.found().map(|o| o.class),
        Some(OutcomeClass::Transient)
    );
}

#[tokio::test(start_paused = true)]
async fn an_ollama_error_line_is_found() {
    let mut watch = Watch::new(Dialect::Ollama, Framing::Ndjson, clock());
    watch.feed(b"{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n{\"error\":\"you (x) have reached your session usage limit\"}\n");
    assert!(watch.found().is_some());
}

#[tokio::test(start_paused = true)]
async fn content_that_names_errors_is_not_an_error() {
    let mut watch = Watch::new(Dialect::OpenaiChat, Framing::Sse, clock());
    watch.feed(
        b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\\\"error\\\": none\"}}]}\n\n",
    );
    assert!(watch.found().is_none());
}

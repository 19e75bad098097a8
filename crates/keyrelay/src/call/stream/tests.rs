use std::sync::mpsc;

use dialects::Translator;
use futures_util::stream;

use super::*;

fn event_names(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .map(str::to_owned)
        .collect()
}

/// Runs the loop to its end: every item, and how it reported its end.
async fn run_all(
    head: &'static str,
    rest: BodyStream,
    step: Step,
    idle: Duration,
) -> (Vec<Result<Bytes, String>>, Option<StreamEnd>) {
    let (ended, ends) = mpsc::channel();
    let items = run(
        Bytes::from_static(head.as_bytes()),
        rest,
        step,
        idle,
        move |end| {
            let _ = ended.send(end);
        },
    )
    .map(|item| item.map_err(|e| e.to_string()))
    .collect()
    .await;
    (items, ends.try_recv().ok())
}

#[tokio::test(start_paused = true)]
async fn a_silent_translated_upstream_gets_pings_then_an_error_at_the_idle_timeout() {
    let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
    let rest = stream::iter(vec![Ok(Bytes::from_static(first.as_bytes()))])
        .chain(stream::pending())
        .boxed();
    let step = Step::Translate {
        translator: dialects::openai::OpenAiChat.stream("m", "msg_test"),
        client: Box::new(dialects::client::MessagesEvents),
    };
    let idle = Duration::from_secs(25);
    let started = tokio::time::Instant::now();
    let (items, end) = run_all("", rest, step, idle).await;
    let all: Vec<u8> = items
        .into_iter()
        .flat_map(|i| i.unwrap().to_vec())
        .collect();
    assert_eq!(
        event_names(&all),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "ping",
            "ping",
            "content_block_stop",
            "error"
        ],
        "{}",
        String::from_utf8_lossy(&all)
    );
    assert_eq!(started.elapsed(), idle);
    assert!(matches!(end, Some(StreamEnd::Broken(_))));
}

#[tokio::test(start_paused = true)]
async fn a_forwarded_stream_passes_bytes_unchanged_and_ends_complete() {
    let rest = stream::iter(vec![
        Ok(Bytes::from_static(b"event: b\ndata: 2\n\n")),
        Ok(Bytes::new()),
        Ok(Bytes::from_static(b"event: c\ndata: 3\n\n")),
    ])
    .boxed();
    let step = Step::Forward {
        shape: Dialect::Anthropic,
        framing: Framing::Sse,
    };
    let (items, end) = run_all("event: a\ndata: 1\n\n", rest, step, Duration::from_secs(5)).await;
    let items: Vec<Bytes> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        items,
        [
            "event: a\ndata: 1\n\n",
            "event: b\ndata: 2\n\n",
            "event: c\ndata: 3\n\n"
        ]
    );
    assert_eq!(end, Some(StreamEnd::Complete));
}

#[tokio::test(start_paused = true)]
async fn a_silent_forwarded_stream_ends_with_an_error_event_in_the_clients_shape() {
    let rest = stream::pending().boxed();
    let step = Step::Forward {
        shape: Dialect::OpenaiChat,
        framing: Framing::Sse,
    };
    let idle = Duration::from_secs(30);
    let started = tokio::time::Instant::now();
    let (items, end) = run_all("data: {}\n\n", rest, step, idle).await;
    assert_eq!(started.elapsed(), idle, "no pings on a forwarded stream");
    assert_eq!(items.len(), 2);
    let last = String::from_utf8(items[1].clone().unwrap().to_vec()).unwrap();
    assert!(last.starts_with("data: {\"error\":{"), "{last}");
    assert!(last.contains("silent for 30s"), "{last}");
    assert!(matches!(end, Some(StreamEnd::Broken(_))));
}

#[tokio::test(start_paused = true)]
async fn a_whole_document_that_stalls_is_cut_off() {
    let rest = stream::pending().boxed();
    let step = Step::Forward {
        shape: Dialect::Anthropic,
        framing: Framing::Whole,
    };
    let (items, end) = run_all("{\"partial\":", rest, step, Duration::from_secs(1)).await;
    assert!(items[0].is_ok());
    assert!(items[1].as_ref().is_err_and(|e| e.contains("silent")));
    assert!(matches!(end, Some(StreamEnd::Broken(_))));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_goes_away_reports_a_complete_stream() {
    let (ended, ends) = mpsc::channel();
    let mut body = Box::pin(run(
        Bytes::from_static(b"data: 1\n\n"),
        stream::pending().boxed(),
        Step::Forward {
            shape: Dialect::Anthropic,
            framing: Framing::Sse,
        },
        Duration::from_secs(60),
        move |end| {
            let _ = ended.send(end);
        },
    ));
    assert!(body.next().await.is_some());
    drop(body);
    assert_eq!(ends.try_recv().ok(), Some(StreamEnd::Complete));
}

#[tokio::test(start_paused = true)]
async fn a_silent_upstream_of_a_chat_client_gets_comment_pings_then_an_openai_error_chunk() {
    let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
    let rest = stream::iter(vec![Ok(Bytes::from_static(first.as_bytes()))])
        .chain(stream::pending())
        .boxed();
    let meta = dialects::openai::inbound::ChatMeta {
        id: "chatcmpl-1".into(),
        model: "m".into(),
        created: 1,
    };
    let step = Step::Translate {
        translator: dialects::openai::OpenAiChat.stream("m", "msg_test"),
        client: Box::new(dialects::openai::inbound::ChatChunks::new(meta, false)),
    };
    let idle = Duration::from_secs(25);
    let (items, end) = run_all("", rest, step, idle).await;
    let all: Vec<u8> = items
        .into_iter()
        .flat_map(|i| i.unwrap().to_vec())
        .collect();
    let all = String::from_utf8(all).unwrap();
    let events: Vec<&str> = all.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.len(), 5, "{all}");
    assert!(events[0].contains("\"role\":\"assistant\""), "{all}");
    assert!(events[1].contains("\"content\":\"Hi\""), "{all}");
    assert_eq!(&events[2..4], [": ping", ": ping"], "pings are comments");
    assert!(
        events[4].starts_with("data: {\"error\":{") && events[4].contains("silent for 25s"),
        "{all}"
    );
    assert!(!all.contains("event:") && !all.contains("[DONE]"), "{all}");
    assert!(matches!(end, Some(StreamEnd::Broken(_))));
}

#[tokio::test(start_paused = true)]
async fn a_translated_stream_ends_at_its_last_event_whatever_the_upstream_still_sends() {
    let chunk = |body: &str| Ok(Bytes::from(format!("data: {body}\n\n")));
    let delta = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#;
    let finish = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    // After [DONE] the upstream sends one more event, then neither ends nor
    // goes away: the client's stream is over all the same, and complete.
    let rest = stream::iter(vec![
        chunk(delta),
        chunk(finish),
        chunk("[DONE]"),
        chunk("{\"more\":true}"),
    ])
    .chain(stream::pending())
    .boxed();
    let step = Step::Translate {
        translator: dialects::openai::OpenAiChat.stream("m", "msg_test"),
        client: Box::new(dialects::client::MessagesEvents),
    };
    let (items, end) = run_all("", rest, step, Duration::from_secs(25)).await;
    let all: Vec<u8> = items
        .into_iter()
        .flat_map(|i| i.unwrap().to_vec())
        .collect();
    let names = event_names(&all);
    assert_eq!(
        names.last().map(String::as_str),
        Some("message_stop"),
        "{names:?}"
    );
    assert!(!names.contains(&"ping".to_owned()), "{names:?}");
    assert_eq!(end, Some(StreamEnd::Complete));
}

#[tokio::test(start_paused = true)]
async fn a_chat_clients_stream_ends_at_its_done_whatever_the_upstream_still_sends() {
    let chunk = |body: &str| Ok(Bytes::from(format!("data: {body}\n\n")));
    let finish = r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#;
    let rest = stream::iter(vec![chunk(finish), chunk("[DONE]")])
        .chain(stream::pending())
        .boxed();
    let meta = dialects::openai::inbound::ChatMeta {
        id: "chatcmpl-1".into(),
        model: "m".into(),
        created: 1,
    };
    let step = Step::Translate {
        translator: dialects::openai::OpenAiChat.stream("m", "msg_test"),
        client: Box::new(dialects::openai::inbound::ChatChunks::new(meta, false)),
    };
    let (items, end) = run_all("", rest, step, Duration::from_secs(25)).await;
    let all: Vec<u8> = items
        .into_iter()
        .flat_map(|i| i.unwrap().to_vec())
        .collect();
    let all = String::from_utf8(all).unwrap();
    assert!(all.ends_with("data: [DONE]\n\n"), "{all}");
    assert!(!all.contains(": ping"), "{all}");
    assert_eq!(end, Some(StreamEnd::Complete));
}

fn watch(dialect: Dialect, framing: Framing) -> Watch {
    let clock = keypool::Clock::starting_at(std::time::UNIX_EPOCH);
    Watch::new(dialect, framing, clock)
}

#[tokio::test(start_paused = true)]
async fn a_forwarded_stream_with_an_error_event_after_content_ends_failed_with_its_class() {
    let rest = stream::iter(vec![Ok(Bytes::from_static(
        b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    ))])
    .boxed();
    let step = Step::Forward {
        shape: Dialect::Anthropic,
        framing: Framing::Sse,
    };
    let (ended, ends) = mpsc::channel();
    let head = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n";
    let items: Vec<_> = run_watched(
        Bytes::from_static(head.as_bytes()),
        rest,
        step,
        Duration::from_secs(5),
        watch(Dialect::Anthropic, Framing::Sse),
        move |end| {
            let _ = ended.send(end);
        },
    )
    .collect()
    .await;
    assert_eq!(items.len(), 2, "bytes pass unchanged");
    let end = ends.try_recv().unwrap();
    assert!(
        matches!(&end, StreamEnd::Failed(o) if o.class == OutcomeClass::Transient),
        "{end:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_translated_stream_that_ends_before_its_answer_is_complete_ends_broken() {
    let first = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";
    let rest = stream::iter(vec![Ok(Bytes::from_static(first.as_bytes()))]).boxed();
    let step = Step::Translate {
        translator: dialects::openai::OpenAiChat.stream("m", "msg_test"),
        client: Box::new(dialects::client::MessagesEvents),
    };
    let (_, end) = run_all("", rest, step, Duration::from_secs(5)).await;
    assert!(matches!(end, Some(StreamEnd::Broken(_))), "{end:?}");
}

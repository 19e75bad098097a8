use super::*;

fn names(events: &[StreamEvent]) -> Vec<&'static str> {
    events.iter().map(StreamEvent::name).collect()
}

#[test]
fn blocks_open_and_close_in_order() {
    let mut e = EventEmitter::new("msg_1", "m");
    let mut out = Vec::new();
    e.thinking("hmm", &mut out);
    e.signature("sig", &mut out);
    e.text("Hel", &mut out);
    e.text("lo", &mut out);
    e.tool_use_start("toolu_1", "read", &mut out);
    e.tool_input("{\"a\":", &mut out);
    e.tool_input("1}", &mut out);
    e.finish(StopReason::ToolUse, &mut out);
    assert_eq!(
        names(&out),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert!(e.is_ended() && e.saw_tool_use());
}

#[test]
fn a_failure_closes_the_open_block_before_the_error() {
    let mut e = EventEmitter::new("msg_1", "m");
    let mut out = Vec::new();
    e.text("partial", &mut out);
    e.fail("api_error", "upstream broke", &mut out);
    e.text("ignored", &mut out);
    e.finish(StopReason::EndTurn, &mut out);
    assert_eq!(
        names(&out),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "error"
        ]
    );
}

#[test]
fn an_empty_response_is_still_a_complete_message() {
    let mut e = EventEmitter::new("msg_1", "m");
    let mut out = Vec::new();
    e.finish(StopReason::EndTurn, &mut out);
    assert_eq!(
        names(&out),
        ["message_start", "message_delta", "message_stop"]
    );
    let sse = String::from_utf8(out[2].to_sse().to_vec()).unwrap_or_default();
    assert_eq!(
        sse,
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
    );
}

//! The body written from the request read in place equals the one built as
//! values from the owned request, on random valid requests.

use proptest::prelude::*;
use serde_json::Value;

use crate::anthropic::arbitrary::request_bytes;
use crate::anthropic::view::RequestView;
use crate::anthropic::MessagesRequest;
use crate::openai::{request, OpenAiChat};
use crate::translate::Translator;

const MODELS: [&str; 4] = ["gpt-4o", "o3-mini", "gpt-5", "deepseek-chat"];

/// `arguments` is JSON text: the written one keeps the client's spelling
/// (key order, spacing, number forms), so both are compared as values.
fn arguments_as_values(mut body: Value) -> Value {
    for message in body["messages"].as_array_mut().into_iter().flatten() {
        for call in message["tool_calls"].as_array_mut().into_iter().flatten() {
            let arguments = &mut call["function"]["arguments"];
            if let Some(text) = arguments.as_str() {
                *arguments = serde_json::from_str(text).expect("arguments are JSON");
            }
        }
    }
    body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_body_equals_the_value_built_one(body in request_bytes(), model in prop::sample::select(&MODELS[..])) {
        let owned: MessagesRequest = serde_json::from_slice(&body).expect("the owned parse takes it");
        let reference = request::body(&owned, model);
        let written = OpenAiChat.request_bytes(&body, model).expect("translates");
        let written: Value = serde_json::from_slice(&written.body).expect("written body is JSON");
        prop_assert_eq!(arguments_as_values(written), arguments_as_values(reference));
    }

    #[test]
    fn reading_in_place_takes_what_the_owned_parse_takes(body in request_bytes(), cut in any::<prop::sample::Index>()) {
        // A whole request, and one cut short or with a byte changed.
        let mut broken = body.clone();
        let at = cut.index(broken.len());
        broken[at] = b'}';
        for bytes in [&body[..], &body[..at], &broken[..]] {
            let owned = serde_json::from_slice::<MessagesRequest>(bytes).is_ok();
            prop_assert_eq!(RequestView::parse(bytes).is_ok(), owned, "{}", String::from_utf8_lossy(bytes));
        }
    }
}

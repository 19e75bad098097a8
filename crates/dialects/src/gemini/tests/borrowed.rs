//! The body written from the request read in place equals the one built as
//! values from the owned request, on random valid requests.

use proptest::prelude::*;
use serde_json::Value;

use crate::anthropic::arbitrary::request_bytes;
use crate::anthropic::view::RequestView;
use crate::anthropic::MessagesRequest;
use crate::gemini::{request, write, Gemini};
use crate::translate::Translator;

const MODELS: [&str; 4] = [
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemini-2.0-flash",
];

fn value(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("written body is JSON")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_body_equals_the_value_built_one(body in request_bytes(), model in prop::sample::select(&MODELS[..])) {
        let owned: MessagesRequest = serde_json::from_slice(&body).expect("the owned parse takes it");
        let reference = request::generate(&owned, model);
        let written = Gemini.request_bytes(&body, model);
        match (reference, written) {
            (Ok(reference), Ok(written)) => {
                prop_assert_eq!(&written.path, &reference.path);
                prop_assert_eq!(&written.query, &reference.query);
                prop_assert_eq!(value(&written.body), reference.body);
            }
            (Err(reference), Err(written)) => prop_assert_eq!(written, reference),
            (reference, written) => prop_assert!(false, "reference {reference:?}, written {written:?}"),
        }
    }

    #[test]
    fn written_count_equals_the_value_built_one(body in request_bytes(), model in prop::sample::select(&MODELS[..])) {
        let owned: MessagesRequest = serde_json::from_slice(&body).expect("the owned parse takes it");
        let reference = request::count_tokens(&owned, model).map(|r| r.body);
        let view = RequestView::parse(&body).expect("reads in place");
        let written = write::count_tokens(&view, model, body.len()).map(|w| value(&w.body));
        prop_assert_eq!(written, reference);
    }
}

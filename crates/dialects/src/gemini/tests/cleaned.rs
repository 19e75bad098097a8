//! Remembered cleaned schemas: the same answer as cleaning afresh, and a
//! bounded memory.

use serde_json::json;

use crate::gemini::{cleaned, schema};

#[test]
fn a_remembered_schema_is_cleaned_as_a_fresh_one() {
    let raw = r#"{"type":"object","$schema":"x","properties":{"p":{"type":["string","null"],"default":"a"}},"required":["p","q"]}"#;
    let fresh = schema::parameters(Some(&serde_json::from_str(raw).expect("json")));
    for _ in 0..2 {
        let remembered = cleaned::parameters(raw).map(|p| serde_json::from_str(&p).expect("json"));
        assert_eq!(remembered, fresh);
    }
    assert_eq!(
        cleaned::parameters(r#"{"type":"object","properties":{}}"#),
        None
    );
}

#[test]
fn the_memory_stays_bounded() {
    for i in 0..(cleaned::MAX_SCHEMAS * 2 + 3) {
        let raw = json!({"type": "object", "properties": {format!("p{i}"): {"type": "string"}}})
            .to_string();
        assert!(cleaned::parameters(&raw).is_some());
        assert!(cleaned::remembered() <= cleaned::MAX_SCHEMAS);
    }
}

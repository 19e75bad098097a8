use super::with_model;

fn replaced(body: &str, model: &str) -> Option<String> {
    with_model(body.as_bytes(), model).map(|b| String::from_utf8(b.to_vec()).unwrap())
}

#[test]
fn only_the_top_level_model_value_changes() {
    let body = "{ \"messages\": [{\"role\":\"user\",\"content\":\"say \\\"model\\\": x\", \"model\": 1}],\n  \"model\" : \"openai@gpt-4.1\", \"temperature\": 0.50, \"meta\": {\"model\": \"keep\"} }";
    assert_eq!(
        replaced(body, "gpt-4.1").unwrap(),
        body.replace("\"openai@gpt-4.1\"", "\"gpt-4.1\"")
    );
    assert_eq!(
        replaced("{\"stream\":true,\"model\":\"a/b\"}", "b\"c").unwrap(),
        "{\"stream\":true,\"model\":\"b\\\"c\"}"
    );
}

#[test]
fn a_body_without_a_top_level_model_is_left_to_the_caller() {
    assert_eq!(replaced("{\"messages\": [{\"model\": \"x\"}]}", "y"), None);
    assert_eq!(replaced("[\"model\"]", "y"), None);
    assert_eq!(
        replaced("{\"model\": \"x\"", "y").as_deref(),
        Some("{\"model\": \"y\"")
    );
    assert_eq!(replaced("{\"a\": 1 2, \"model\": \"x\"}", "y"), None);
}

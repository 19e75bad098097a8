//! keyrelay's own errors on `/v1/responses`, in OpenAI's shape.

use super::*;

#[tokio::test]
async fn keyrelays_own_errors_are_in_openai_shape() {
    let gateway = start(&[("OPENAI_API_KEYS", GOOD), ("GEMINI_API_KEYS", GOOD)], "").await;
    let response = post_bytes(&gateway, "{\"model\": ".to_owned(), None).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        openai_error(response).await["type"],
        "invalid_request_error"
    );

    let response = post(&gateway, &simple_request("nowhere@model-x", false)).await;
    assert_eq!(response.status(), 400);
    let error = openai_error(response).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown provider"),
        "{error}"
    );

    // A translated target refuses what it cannot carry, in the same shape.
    let mut request = simple_request("gemini@gemini-2.5-flash", false);
    request["input"] =
        json!([{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]);
    let response = post(&gateway, &request).await;
    assert_eq!(response.status(), 400);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("input_file"));

    let response = client()
        .get(format!("{}/v1/responses/resp_123", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("stores no responses"));

    let guarded = start(&[], "[server]\naccess_tokens = [\"team-token\"]\n").await;
    let response = post(&guarded, &simple_request("openai@gpt-4.1", false)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(openai_error(response).await["type"], "authentication_error");
}

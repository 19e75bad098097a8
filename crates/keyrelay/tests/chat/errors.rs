//! keyrelay's own errors on `/v1/chat/completions`, in OpenAI's shape.

use super::*;

#[tokio::test]
async fn keyrelays_own_errors_are_in_openai_shape() {
    let gateway = start(&[("OPENAI_API_KEYS", GOOD)], "").await;
    let response = post_chat_bytes(&gateway, "{\"model\": ".to_owned()).await;
    assert_eq!(response.status(), 400);
    assert_eq!(
        openai_error(response).await["type"],
        "invalid_request_error"
    );

    let response = post_chat(&gateway, &chat_request("nowhere@model-x", false)).await;
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
    let gateway = start(&[("GEMINI_API_KEYS", GOOD)], "").await;
    let mut request = chat_request("gemini@gemini-2.5-flash", false);
    request["n"] = json!(3);
    let response = post_chat(&gateway, &request).await;
    assert_eq!(response.status(), 400);
    assert!(openai_error(response).await["message"]
        .as_str()
        .unwrap()
        .starts_with("n:"));

    let guarded = start(&[], "[server]\naccess_tokens = [\"team-token\"]\n").await;
    let response = post_chat(&guarded, &chat_request("openai@gpt-4.1", false)).await;
    assert_eq!(response.status(), 401);
    assert_eq!(openai_error(response).await["type"], "authentication_error");
}

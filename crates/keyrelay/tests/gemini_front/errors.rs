//! keyrelay's own errors on Gemini's paths, in Google's shape.

use super::*;

#[tokio::test]
async fn keyrelays_own_errors_are_in_gemini_shape() {
    let gateway = start(&[("ANTHROPIC_API_KEYS", GOOD)], "").await;
    let response = post_gemini(
        &gateway,
        "claude-sonnet-4-5",
        "generateContent",
        "",
        "{\"contents\": ".into(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert_eq!(gemini_error(response).await["status"], "INVALID_ARGUMENT");

    let response = generate(&gateway, "nowhere@model-x", &gemini_request()).await;
    assert_eq!(response.status(), 400);
    let error = gemini_error(response).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("unknown provider"),
        "{error}"
    );

    // What the provider cannot carry is refused by name.
    let mut request = gemini_request();
    request["tools"] = json!([{"googleSearch": {}}]);
    let response = generate(&gateway, "claude-sonnet-4-5", &request).await;
    assert_eq!(response.status(), 400);
    assert!(gemini_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("googleSearch"));

    // Anthropic has no embeddings: refused, saying so.
    let response = post_gemini(
        &gateway,
        "claude-sonnet-4-5",
        "embedContent",
        "",
        json!({"content": {"parts": [{"text": "hello"}]}}).to_string(),
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(gemini_error(response).await["message"]
        .as_str()
        .unwrap()
        .contains("no embeddings endpoint"));

    let response = client()
        .post(format!("{}/v1beta/models/claude-sonnet-4-5", gateway.url()))
        .json(&gemini_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(gemini_error(response).await["status"], "NOT_FOUND");
}

//! The model list and one model, in Gemini's shape.

use super::*;

#[tokio::test]
async fn the_model_list_is_in_geminis_shape() {
    let aliases = vec![
        ("fast".to_owned(), "g/gemini-2.5-flash-lite".to_owned()),
        ("smart".to_owned(), "anthropic@claude-sonnet-4-5".to_owned()),
    ];
    let gateway = start_with(&[], "", aliases).await;
    let list: Value = client()
        .get(format!("{}/v1beta/models?pageSize=50", gateway.url()))
        .header("x-goog-api-key", "client-own-credential")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let models = list["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "models/fast",
            "models/g/gemini-2.5-flash-lite",
            "models/smart",
            "models/anthropic@claude-sonnet-4-5"
        ]
    );
    for model in models {
        assert!(model["displayName"].is_string(), "{model}");
        assert_eq!(
            model["supportedGenerationMethods"],
            json!(["generateContent", "streamGenerateContent", "countTokens"])
        );
    }
    assert!(models[2]["description"]
        .as_str()
        .unwrap()
        .contains("anthropic"));

    // A Gemini client asking the v1 list gets the same; other clients keep theirs.
    let v1 = |gemini: bool| {
        let request = client().get(format!("{}/v1/models", gateway.url()));
        let request = if gemini {
            request.header("x-goog-api-key", "k")
        } else {
            request
        };
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(v1(true).await, list);
    assert_eq!(v1(false).await["object"], "list");

    let one: Value = client()
        .get(format!("{}/v1beta/models/smart", gateway.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["name"], "models/smart");
    let missing = client()
        .get(format!("{}/v1beta/models/nowhere@x", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(gemini_error(missing).await["status"], "NOT_FOUND");
}

//! `GET /v1/models` read as both SDK families read it.

use super::*;

#[tokio::test]
async fn the_model_list_has_what_both_the_anthropic_and_the_openai_sdk_require() {
    let aliases = vec![
        ("fast".to_owned(), "g/gemini-2.5-flash-lite".to_owned()),
        ("smart".to_owned(), "anthropic@claude-sonnet-4-5".to_owned()),
    ];
    let gateway = start_with(&[], "", aliases).await;
    let list: Value = client()
        .get(format!("{}/v1/models", gateway.url()))
        .header("authorization", "Bearer client-own-credential")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // openai-python: SyncPage {data: List[Model], object: str}.
    assert_eq!(list["object"], "list");
    // anthropic-sdk-python: the page's has_more, first_id, last_id.
    assert_eq!(list["has_more"], false);
    assert_eq!(list["first_id"], "fast");
    assert_eq!(list["last_id"], "anthropic@claude-sonnet-4-5");
    let models = list["data"].as_array().unwrap();
    assert_eq!(models.len(), 4);
    for model in models {
        // openai-python Model: id: str, created: int, object: "model", owned_by: str.
        assert!(model["id"].is_string(), "{model}");
        assert!(model["created"].is_u64(), "{model}");
        assert_eq!(model["object"], "model");
        assert!(model["owned_by"].is_string(), "{model}");
        // anthropic-sdk-python ModelInfo: id, created_at (RFC 3339), display_name, type: "model".
        assert!(
            model["created_at"].as_str().unwrap().ends_with('Z'),
            "{model}"
        );
        assert!(model["display_name"].is_string(), "{model}");
        assert_eq!(model["type"], "model");
    }
    let owners: Vec<&str> = models
        .iter()
        .map(|m| m["owned_by"].as_str().unwrap())
        .collect();
    assert_eq!(owners, ["gemini", "gemini", "anthropic", "anthropic"]);
}

//! The model lists name embedding models: Gemini's says so with
//! `embedContent` and `batchEmbedContents`, as Gemini's own list does.

use super::*;

#[tokio::test]
async fn gemini_s_list_gives_embedding_models_the_embedding_methods() {
    let aliases = vec![
        (
            "vectors".to_owned(),
            "gemini@gemini-embedding-001".to_owned(),
        ),
        (
            "small".to_owned(),
            "openai@text-embedding-3-small".to_owned(),
        ),
        ("fast".to_owned(), "g/gemini-2.5-flash".to_owned()),
    ];
    let gateway = start_with(&[], "", aliases).await;
    let list: Value = client()
        .get(format!("{}/v1beta/models", gateway.url()))
        .header("x-goog-api-key", "client-own-credential")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let methods = |name: &str| {
        list["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == format!("models/{name}"))
            .unwrap_or_else(|| panic!("{name}: {list}"))["supportedGenerationMethods"]
            .clone()
    };
    let embedding = json!(["embedContent", "batchEmbedContents"]);
    for name in [
        "vectors",
        "gemini@gemini-embedding-001",
        "small",
        "openai@text-embedding-3-small",
    ] {
        assert_eq!(methods(name), embedding, "{name}");
    }
    assert_eq!(
        methods("fast"),
        json!(["generateContent", "streamGenerateContent", "countTokens"])
    );
    let one: Value = client()
        .get(format!("{}/v1beta/models/vectors", gateway.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["supportedGenerationMethods"], embedding);
    // The list both SDK families read names them too.
    let v1: Value = client()
        .get(format!("{}/v1/models", gateway.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = v1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"small") && ids.contains(&"openai@text-embedding-3-small"),
        "{v1}"
    );
}

//! Virtual keys on embeddings: spend per input token (the provider's
//! count, or an estimate marked as one where Gemini counts none), in the
//! request log and the key's spend; a budget refuses in the client's shape.

use reqwest::Method;

use super::*;

const ADMIN: &str = "admin-token-for-embeddings";

async fn admin(gateway: &RunningGateway, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = client()
        .request(method, format!("{}/admin{path}", gateway.url()))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// A gateway with OpenAI and Gemini on `upstream` (one key each) and a
/// virtual key made with `key`; its id and secret.
async fn team_gateway(
    upstream: &FakeUpstream,
    config: &str,
    key: Value,
) -> (RunningGateway, String, String) {
    upstream.on_key_with(GOOD, |request| {
        if request.path.starts_with("/v1beta/") {
            gemini_embeddings(request)
        } else {
            openai_embeddings(request)
        }
    });
    let base = upstream.base_url();
    let v1 = format!("{base}/v1");
    let gateway = start(
        &[
            ("OPENAI_API_KEYS", GOOD),
            ("OPENAI_BASE_URL", v1.as_str()),
            ("GEMINI_API_KEYS", GOOD),
            ("GEMINI_BASE_URL", base.as_str()),
        ],
        &format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n{config}"),
    )
    .await;
    let made = admin(&gateway, Method::POST, "/virtual-keys", Some(key)).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let secret = made["key"].as_str().unwrap().to_owned();
    (gateway, id, secret)
}

async fn embed_with(gateway: &RunningGateway, secret: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}/v1/embeddings", gateway.url()))
        .bearer_auth(secret)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn embeddings_are_charged_per_input_token_and_gemini_s_as_an_estimate() {
    let upstream = FakeUpstream::start().await;
    let (gateway, id, secret) = team_gateway(&upstream, "", json!({"name": "indexer"})).await;
    let native = embed_with(
        &gateway,
        &secret,
        json!({"model": "openai@text-embedding-3-small", "input": ["a", "b"]}),
    )
    .await;
    assert_eq!(native.status(), 200);
    native.bytes().await.unwrap();
    let translated = embed_with(
        &gateway,
        &secret,
        json!({"model": "gemini@gemini-embedding-001", "input": "twelve chars"}),
    )
    .await;
    assert_eq!(translated.status(), 200);
    translated.bytes().await.unwrap();
    let gemini = client()
        .post(format!(
            "{}/v1beta/models/gemini@gemini-embedding-001:embedContent",
            gateway.url()
        ))
        .header("x-goog-api-key", &secret)
        .json(&json!({"content": {"parts": [{"text": "sixteen chars!!!"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(gemini.status(), 200);
    gemini.bytes().await.unwrap();

    let log = admin(&gateway, Method::GET, "/requests?limit=10", None).await;
    let entries = log["requests"].as_array().unwrap();
    let find = |front: &str, model: &str| {
        entries
            .iter()
            .find(|e| e["front"] == front && e["model"] == model)
            .unwrap_or_else(|| panic!("{front} {model}: {log}"))
            .clone()
    };
    // OpenAI counts 3 tokens an input: 6 × $0.02 per million.
    let openai = find("embeddings", "text-embedding-3-small");
    assert_eq!(openai["input_tokens"], 6, "{openai}");
    assert_eq!(openai["output_tokens"], 0, "{openai}");
    assert_eq!(openai["cost"], "priced", "{openai}");
    assert!((openai["cost_usd"].as_f64().unwrap() - 6.0 * 0.02e-6).abs() < 1e-12);
    // Gemini counts none: twelve characters are about 3 tokens, at $0.15 per million.
    let translated = find("embeddings", "gemini-embedding-001");
    assert_eq!(translated["input_tokens"], 3, "{translated}");
    assert_eq!(translated["output_tokens"], 0, "{translated}");
    assert_eq!(translated["cost"], "estimated", "{translated}");
    assert!((translated["cost_usd"].as_f64().unwrap() - 3.0 * 0.15e-6).abs() < 1e-12);
    let native_gemini = find("gemini", "gemini-embedding-001");
    assert_eq!(native_gemini["input_tokens"], 4, "{native_gemini}");
    assert_eq!(native_gemini["cost"], "estimated", "{native_gemini}");

    let view = admin(&gateway, Method::GET, &format!("/virtual-keys/{id}"), None).await;
    let spent = view["spend"]["day"]["usd"].as_f64().unwrap();
    assert!(
        (spent - (6.0 * 0.02e-6 + 7.0 * 0.15e-6)).abs() < 1e-12,
        "{view}"
    );

    let metrics = client()
        .get(format!("{}/metrics", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "keyrelay_requests_total{front=\"embeddings\",provider=\"openai\",status=\"200\"} 1",
        "keyrelay_requests_total{front=\"gemini\",provider=\"gemini\",status=\"200\"} 1",
        "keyrelay_spend_tokens_total{virtual_key=\"indexer\",team=\"-\",model=\"openai@text-embedding-3-small\",kind=\"input\"} 6",
        "keyrelay_spend_tokens_total{virtual_key=\"indexer\",team=\"-\",model=\"gemini@gemini-embedding-001\",kind=\"input\"} 7",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
}

#[tokio::test]
async fn a_budget_refuses_embeddings_in_each_clients_shape() {
    let upstream = FakeUpstream::start().await;
    // 3 tokens an input at $1,000 per million: $0.003 a request.
    let price = "[prices.\"openai@text-embedding-3-small\"]\ninput = 1000.0\noutput = 0.0\n";
    let (gateway, _, secret) = team_gateway(
        &upstream,
        price,
        json!({"name": "thrifty", "budget_usd": {"day": 0.005}}),
    )
    .await;
    let body = json!({"model": "openai@text-embedding-3-small", "input": "hi"});
    let mut served = 0;
    let refused = loop {
        let response = embed_with(&gateway, &secret, body.clone()).await;
        if response.status() != 200 {
            break response;
        }
        response.bytes().await.unwrap();
        served += 1;
        assert!(
            served <= 2,
            "a $0.005 budget holds two $0.003 requests at most"
        );
    };
    assert_eq!(served, 2, "the second request reached the budget");
    assert_eq!(refused.status(), 429);
    let error = openai_error(refused).await;
    assert!(
        error["message"].as_str().unwrap().contains("daily budget"),
        "{error}"
    );
    let gemini = client()
        .post(format!(
            "{}/v1beta/models/openai@text-embedding-3-small:embedContent",
            gateway.url()
        ))
        .header("x-goog-api-key", &secret)
        .json(&json!({"content": {"parts": [{"text": "hi"}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(gemini.status(), 429);
    let error = gemini_error(gemini).await;
    assert_eq!(error["status"], "RESOURCE_EXHAUSTED", "{error}");
    assert_eq!(
        upstream.total_hits(),
        2,
        "refused requests never went upstream"
    );
}

#[tokio::test]
async fn a_virtual_key_embeds_only_on_its_routes() {
    let upstream = FakeUpstream::start().await;
    let (gateway, _, secret) = team_gateway(
        &upstream,
        "",
        json!({"name": "openai-only", "routes": ["openai@*"]}),
    )
    .await;
    let allowed = embed_with(
        &gateway,
        &secret,
        json!({"model": "openai@text-embedding-3-small", "input": "hi"}),
    )
    .await;
    assert_eq!(allowed.status(), 200);
    let refused = embed_with(
        &gateway,
        &secret,
        json!({"model": "gemini@gemini-embedding-001", "input": "hi"}),
    )
    .await;
    assert_eq!(refused.status(), 403);
    let error = openai_error(refused).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("gemini@gemini-embedding-001"),
        "{error}"
    );
    assert_eq!(upstream.total_hits(), 1);
}

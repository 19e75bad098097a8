//! What an answer is charged when it is not a plain whole one: a stream the
//! client leaves is charged for the usage it showed so far; a price changed
//! in the config file and reloaded prices the next answer.

use std::time::Duration;

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use reqwest::Method;
use serde_json::{json, Value};
use testkit::{eventually_async, FakeUpstream, Reply, SseEvent};

use super::*;

#[tokio::test]
async fn a_stream_the_client_leaves_is_charged_for_the_usage_it_showed() {
    let upstream = FakeUpstream::start().await;
    // Gemini reports its counts on every chunk; the second never comes.
    let chunk = |candidates: u64| {
        json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": "hel"}]}}],
            "usageMetadata": {"promptTokenCount": 3000, "cachedContentTokenCount": 2000, "candidatesTokenCount": candidates},
        })
    };
    upstream.on_key(
        KEY,
        [Reply::sse([
            SseEvent::data(chunk(100).to_string()),
            SseEvent::data(chunk(300).to_string()),
        ])
        .stall_after(1)],
    );
    let gateway = gateway(&upstream, "").await;
    let (_, secret) = make_key(&gateway, json!({"name": "leaver"})).await;
    let mut answer = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            gateway.url()
        ))
        .header("x-goog-api-key", &secret)
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let first = answer.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("usageMetadata"));
    drop(answer);
    let record = eventually_async(
        "the record of the left stream",
        Duration::from_secs(5),
        || async {
            requests(&gateway)
                .await
                .into_iter()
                .find(|r| r["ended"] == "client_gone")
        },
    )
    .await;
    // 1000×0.3 + 2000×0.03 + 100×2.5 = 610 USD per million tokens.
    assert_eq!(record["cost"], "priced", "{record}");
    assert!(
        (record["cost_usd"].as_f64().unwrap() - 0.000_61).abs() < 1e-12,
        "{record}"
    );
    assert_eq!(record["output_tokens"], 100);
}

#[tokio::test]
async fn a_price_changed_in_the_config_file_prices_the_next_answer_after_a_reload() {
    let dir = std::env::temp_dir().join(format!("keyrelay-team-prices-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keyrelay.toml");
    let config = |input: f64| {
        format!(
            "[server]\nadmin_tokens = [\"{ADMIN}\"]\naccess_tokens = [\"{ACCESS}\"]\n\n[prices.\"openai@gpt-4.1\"]\ninput = {input}\noutput = {input}\n"
        )
    };
    std::fs::write(&path, config(1.0)).unwrap();
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            chat_completion(openai_usage(1000, 250, 0)),
        )],
    );
    let v1 = format!("{}/v1", upstream.base_url());
    let env = MapEnv::new([("OPENAI_API_KEYS", KEY.to_owned()), ("OPENAI_BASE_URL", v1)]);
    let settings = ServeSettings {
        config: Config::load(Some(&path)).unwrap(),
        config_path: Some(path.clone()),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &env).await.unwrap();
    let cost_of_next = || async {
        assert_eq!(
            chat(&gateway, ACCESS, chat_body("openai@gpt-4.1", false))
                .await
                .status(),
            200
        );
        let record: Value = eventually_async("the record", Duration::from_secs(5), || async {
            requests(&gateway)
                .await
                .into_iter()
                .next()
                .filter(|r| r["cost_usd"].is_number())
        })
        .await;
        record["cost_usd"].as_f64().unwrap()
    };
    assert!((cost_of_next().await - 0.00125).abs() < 1e-12);
    std::fs::write(&path, config(2.0)).unwrap();
    let (status, reloaded) = admin(&gateway, Method::POST, "/reload", None).await;
    assert_eq!(status, 200, "{reloaded}");
    assert!((cost_of_next().await - 0.0025).abs() < 1e-12);
    // A price that cannot be right is refused by name; the running one stays.
    std::fs::write(&path, config(-1.0)).unwrap();
    let (status, refused) = admin(&gateway, Method::POST, "/reload", None).await;
    assert_eq!(status, 409, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("prices.\"openai@gpt-4.1\".input"),
        "{message}"
    );
    assert!((cost_of_next().await - 0.0025).abs() < 1e-12);
    let _ = std::fs::remove_dir_all(&dir);
}

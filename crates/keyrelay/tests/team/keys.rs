//! Virtual keys: made through the admin API and used at once wherever an
//! access token is, refused with a reason in the client's shape, limited to
//! their routes, changed and deleted; the secret shown once only.

use reqwest::Method;
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

use super::*;

async fn upstream() -> FakeUpstream {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            anthropic_message(json!({"input_tokens": 10, "output_tokens": 5})),
        )],
    );
    upstream
}

fn gemini_answer() -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "hello"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5},
    })
}

#[tokio::test]
async fn a_virtual_key_made_through_the_admin_api_serves_at_once_on_every_front() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, "").await;
    let (id, secret) = make_key(&gateway, json!({"name": "alice", "team": "research"})).await;
    assert!(secret.starts_with("kr-") && secret.len() >= 35, "{secret}");
    assert_eq!(id.len(), 12);

    upstream.on_key(
        KEY,
        [Reply::json(
            200,
            anthropic_message(json!({"input_tokens": 10, "output_tokens": 5})),
        )],
    );
    let answer = messages(&gateway, &secret, "anthropic@claude-sonnet-4-5", false).await;
    assert_eq!(answer.status(), 200, "x-api-key");

    upstream.on_key(
        KEY,
        [Reply::json(200, chat_completion(openai_usage(10, 5, 0)))],
    );
    let answer = chat(&gateway, &secret, chat_body("openai@gpt-4.1", false)).await;
    assert_eq!(answer.status(), 200, "Authorization: Bearer");

    upstream.on_key(KEY, [Reply::json(200, gemini_answer())]);
    let url = format!(
        "{}/v1beta/models/gemini-2.5-flash:generateContent",
        gateway.url()
    );
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]});
    let by_header = client()
        .post(&url)
        .header("x-goog-api-key", &secret)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 200, "x-goog-api-key");
    let by_query = client()
        .post(format!("{url}?key={secret}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200, "?key=");

    // A static access token keeps working beside virtual keys.
    let answer = chat(
        &gateway,
        ACCESS,
        chat_body("gemini@gemini-2.5-flash", false),
    )
    .await;
    assert_eq!(answer.status(), 200, "static token");

    // The upstream never sees the virtual key: it gets the provider key.
    for request in upstream.requests() {
        let seen = format!(
            "{:?} {:?} {:?}",
            request.headers, request.path, request.query
        );
        assert!(!seen.contains(&secret), "the secret went upstream");
    }
    // The request log names the key, never its secret.
    let log = requests(&gateway).await;
    let named: Vec<&Value> = log.iter().filter(|r| r["virtual_key"] == "alice").collect();
    assert_eq!(named.len(), 4);
    assert!(named
        .iter()
        .all(|r| r["virtual_key_id"] == id.as_str() && r["team"] == "research"));
    let (_, list) = admin(&gateway, Method::GET, "/virtual-keys", None).await;
    let metrics = metrics(&gateway).await;
    assert!(
        metrics.contains("virtual_key=\"alice\""),
        "metrics name the key"
    );
    for text in [list.to_string(), Value::Array(log).to_string(), metrics] {
        assert!(!text.contains(&secret), "the secret is shown again");
        assert!(
            !text.contains(&secret[3..23]),
            "part of the secret is shown again"
        );
    }
    // Nothing shows the secret again: not the key's own view either.
    let (_, one) = admin(&gateway, Method::GET, &format!("/virtual-keys/{id}"), None).await;
    assert!(
        one.get("key").is_none() && one.get("hash").is_none(),
        "{one}"
    );
}

/// Posts the same request to Messages, Chat and Gemini with `credential`;
/// each answer's status and error message, in its own shape.
async fn on_every_front(gateway: &RunningGateway, credential: &str) -> Vec<(u16, String, String)> {
    let mut answers = Vec::new();
    let message = messages(gateway, credential, "anthropic@claude-sonnet-4-5", false).await;
    answers.push(message);
    answers.push(chat(gateway, credential, chat_body("openai@gpt-4.1", false)).await);
    let gemini = client()
        .post(format!(
            "{}/v1beta/models/gemini-2.5-flash:generateContent",
            gateway.url()
        ))
        .header("x-goog-api-key", credential)
        .json(&json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}))
        .send()
        .await
        .unwrap();
    answers.push(gemini);
    let mut seen = Vec::new();
    for answer in answers {
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap();
        let (kind, message) = error_of(&body);
        seen.push((status, kind, message));
    }
    seen
}

#[tokio::test]
async fn a_refused_virtual_key_is_a_401_in_the_clients_shape_that_says_which() {
    let upstream = upstream().await;
    let gateway = gateway(&upstream, "").await;
    let (id, secret) = make_key(&gateway, json!({"name": "bob"})).await;
    let check = |seen: Vec<(u16, String, String)>, says: &str| {
        let kinds: Vec<&str> = seen.iter().map(|(_, k, _)| k.as_str()).collect();
        // Anthropic's, OpenAI's and Gemini's own words for it.
        assert_eq!(
            kinds,
            [
                "authentication_error",
                "authentication_error",
                "UNAUTHENTICATED"
            ],
            "{seen:?}"
        );
        for (status, _, message) in &seen {
            assert_eq!(*status, 401, "{message}");
            assert!(message.contains(says), "{message} should say {says}");
        }
    };

    check(
        on_every_front(&gateway, "kr-short").await,
        "malformed virtual key",
    );
    let stranger = format!("kr-{}", "Q".repeat(40));
    check(
        on_every_front(&gateway, &stranger).await,
        "unknown virtual key",
    );

    let (status, _) = admin(
        &gateway,
        Method::POST,
        &format!("/virtual-keys/{id}/disable"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    check(
        on_every_front(&gateway, &secret).await,
        "virtual key `bob` is disabled",
    );
    let (status, view) = admin(
        &gateway,
        Method::POST,
        &format!("/virtual-keys/{id}/enable"),
        None,
    )
    .await;
    assert_eq!((status, view["state"].as_str()), (200, Some("active")));
    assert_eq!(
        messages(&gateway, &secret, "anthropic@claude-sonnet-4-5", false)
            .await
            .status(),
        200
    );

    // Expired: the store holds a key whose time has passed.
    let team = gateway.live.team();
    let mut stored = team.store().keys().await.unwrap().remove(0);
    stored.expires_at_ms = Some(1_000);
    team.store().replace_key(&stored).await.unwrap();
    team.learned(stored);
    check(
        on_every_front(&gateway, &secret).await,
        "virtual key `bob` expired at 1970-01-01T00:00:01Z",
    );

    let (status, _) = admin(
        &gateway,
        Method::DELETE,
        &format!("/virtual-keys/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    check(
        on_every_front(&gateway, &secret).await,
        "unknown virtual key",
    );
    // No refusal repeats the secret.
    for (_, _, message) in on_every_front(&gateway, &secret).await {
        assert!(!message.contains(&secret[3..]), "{message}");
    }
}

#[tokio::test]
async fn a_model_outside_the_keys_routes_is_a_403_that_names_them() {
    let upstream = upstream().await;
    let gateway = gateway(
        &upstream,
        "[aliases]\n\"fast\" = \"anthropic@claude-haiku-4-5\"\n",
    )
    .await;
    let (_, secret) = make_key(
        &gateway,
        json!({"name": "carol", "routes": ["anthropic@claude-sonnet-4-5*", "fast"]}),
    )
    .await;
    assert_eq!(
        messages(&gateway, &secret, "anthropic@claude-sonnet-4-5", false)
            .await
            .status(),
        200
    );
    assert_eq!(
        messages(&gateway, &secret, "fast", false).await.status(),
        200,
        "an alias the routes name"
    );
    let refused = messages(&gateway, &secret, "anthropic@claude-opus-4-1", false).await;
    assert_eq!(refused.status(), 403);
    let (kind, message) = error_of(&refused.json().await.unwrap());
    assert_eq!(kind, "permission_error");
    assert!(
        message.contains("anthropic@claude-sonnet-4-5*, fast"),
        "{message}"
    );
    let chat = chat(&gateway, &secret, chat_body("openai@gpt-4.1", false)).await;
    assert_eq!(chat.status(), 403);
    // The passthrough opens only to a provider the routes open whole.
    let passthrough = client()
        .post(format!("{}/p/anthropic/v1/messages", gateway.url()))
        .header("x-api-key", &secret)
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 5, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(passthrough.status(), 403);
    assert_eq!(
        upstream.total_hits(),
        2,
        "refused requests never went upstream"
    );
}

#[tokio::test]
async fn bad_admin_input_is_a_400_naming_the_field_and_nothing_is_written() {
    let upstream = upstream().await;
    let gateway = gateway(&upstream, "").await;
    let cases = [
        (
            json!({"name": "a", "budget_usd": {"day": -5}}),
            "budget_usd.day:",
        ),
        (
            json!({"name": "a", "budget_usd": {"fortnight": 5}}),
            "budget_usd.fortnight:",
        ),
        (
            json!({"name": "a", "routes": ["gemini@*", "gemnii@*"]}),
            "routes[1]: unknown provider `gemnii`",
        ),
        (json!({"name": "a", "routes": ["gpt 4.1"]}), "routes[0]:"),
        (json!({"name": "a", "rpm": 0}), "rpm:"),
        (
            json!({"name": "a", "expires_at": "2001-01-01T00:00:00Z"}),
            "expires_at:",
        ),
        (json!({"team": "x"}), "name: required"),
        (json!({"name": "a", "colour": "red"}), "colour:"),
    ];
    for (body, field) in cases {
        let (status, answer) =
            admin(&gateway, Method::POST, "/virtual-keys", Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(field), "{body}: {message}");
    }
    let (status, answer) = admin(
        &gateway,
        Method::POST,
        "/virtual-keys",
        Some(json!("not an object")),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let (_, list) = admin(&gateway, Method::GET, "/virtual-keys", None).await;
    assert_eq!(list["virtual_keys"], json!([]), "nothing half-written");

    // A change that does not hold leaves the key as it was.
    let (id, _) = make_key(&gateway, json!({"name": "dave", "rpm": 10})).await;
    let (status, _) = admin(
        &gateway,
        Method::PATCH,
        &format!("/virtual-keys/{id}"),
        Some(json!({"rpm": 20, "budget_usd": {"day": "lots"}})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, view) = admin(&gateway, Method::GET, &format!("/virtual-keys/{id}"), None).await;
    assert_eq!(view["rpm"], 10);
    let (status, clash) = admin(
        &gateway,
        Method::POST,
        "/virtual-keys",
        Some(json!({"name": "dave"})),
    )
    .await;
    assert_eq!(status, 409, "{clash}");
    let (status, _) = admin(
        &gateway,
        Method::PATCH,
        "/virtual-keys/000000000000",
        Some(json!({"rpm": 1})),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_patch_changes_the_key_for_its_next_request() {
    let upstream = upstream().await;
    let gateway = gateway(&upstream, "").await;
    let (id, secret) = make_key(&gateway, json!({"name": "erin", "routes": ["openai@*"]})).await;
    assert_eq!(
        messages(&gateway, &secret, "anthropic@claude-sonnet-4-5", false)
            .await
            .status(),
        403
    );
    let (status, view) = admin(
        &gateway,
        Method::PATCH,
        &format!("/virtual-keys/{id}"),
        Some(json!({"routes": ["anthropic@*"], "team": "ops", "budget_usd": {"month": 50}, "name": "erin-2"})),
    )
    .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["name"], "erin-2");
    assert_eq!(view["budget_usd"]["month"], 50.0);
    assert_eq!(view["spend"]["month"]["budget_usd"], 50.0);
    assert_eq!(
        messages(&gateway, &secret, "anthropic@claude-sonnet-4-5", false)
            .await
            .status(),
        200
    );
    let log = requests(&gateway).await;
    assert_eq!(log[0]["virtual_key"], "erin-2");
    assert_eq!(log[0]["team"], "ops");
}

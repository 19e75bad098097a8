//! The teams and virtual keys page (`/ui/team`): a team's and a key's
//! spend against its budget with a bar, requests and tokens, the key's
//! recent requests; making a key there shows its secret once; disabling it
//! there refuses its next request.
//!
//! Each answer costs $0.003 (500 input and 100 output tokens of
//! claude-sonnet-4-5, $3 and $15 per million).

use reqwest::Method;
use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

use super::*;

async fn admin(gateway: &RunningGateway, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = client()
        .request(method, format!("{}/admin{path}", gateway.url()))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn ask(gateway: &RunningGateway, secret: &str) -> u16 {
    client()
        .post(format!("{}/v1/messages", gateway.url()))
        .header("x-api-key", secret)
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Say hello"}],
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_keys_page_shows_its_spend_against_its_budget_and_its_requests() {
    let upstream = FakeUpstream::start().await;
    let mut answer = anthropic_message("hi");
    answer["usage"] = json!({"input_tokens": 500, "output_tokens": 100});
    upstream.on_key(FIRST, [Reply::json(200, answer)]);
    let gateway = gateway(&upstream, FIRST).await;
    let made = admin(
        &gateway,
        Method::POST,
        "/virtual-keys",
        Some(json!({"name": "alice", "team": "research", "budget_usd": {"day": 0.01}})),
    )
    .await;
    let (id, secret) = (
        made["id"].as_str().unwrap().to_owned(),
        made["key"].as_str().unwrap().to_owned(),
    );
    let statuses = [
        ask(&gateway, &secret).await,
        ask(&gateway, &secret).await,
        ask(&gateway, &secret).await,
        ask(&gateway, &secret).await,
        ask(&gateway, &secret).await,
    ];
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 429],
        "$0.012 reaches the $0.01 budget"
    );

    let browser = signed_in(&gateway, (DESKTOP.0, 1400)).await;
    browser.click("a[href='ui/team']").await;
    browser.wait_shown("#overview").await;
    browser
        .wait_for_texts("the team's spend", "#teams tbody tr", |rows| {
            rows.iter()
                .find(|r| r.contains("research") && r.contains("$0.0120"))
                .cloned()
        })
        .await;
    browser.click(&format!(".vkey[data-id='{id}'] a")).await;
    browser.wait_shown("#key-view").await;
    let figure = browser
        .wait_for_texts(
            "today's spend against the budget",
            "#key-windows .window .figure",
            |f| f.first().filter(|t| t.contains("of $0.0100")).cloned(),
        )
        .await;
    assert_eq!(figure, "$0.0120 of $0.0100");
    let bar = browser
        .js(
            "const b = document.querySelector('#key-windows .bar');
             return [b.getAttribute('aria-valuenow'), b.getAttribute('aria-valuemax'), b.dataset.level, b.getAttribute('aria-valuetext')];",
            vec![],
        )
        .await;
    assert_eq!(bar, json!(["0.012", "0.01", "over", "$0.0120 of $0.0100"]));
    let resets = browser.texts("#key-windows .window .resets").await;
    assert!(
        resets
            .iter()
            .any(|r| r.starts_with("resets ") && r.ends_with("00:00:00 UTC")),
        "{resets:?}"
    );
    assert!(
        resets.iter().any(|r| r == "4 requests · 2,400 tokens"),
        "{resets:?}"
    );
    let requests = browser
        .wait_for_texts("the key's recent requests", "#key-requests .request", |r| {
            (r.len() == 5).then(|| r.to_vec())
        })
        .await;
    assert!(requests[0].contains("429"), "{requests:?}");
    assert!(requests[1].contains("$0.0030"), "{requests:?}");
    let dir = screenshot_dir();
    browser.screenshot(&dir.join("team-key.png")).await;

    // The team's page sums its keys.
    browser
        .goto(&format!("{}/ui/team#team=research", gateway.url()))
        .await;
    browser.wait_shown("#team-view").await;
    browser
        .wait_for_texts("the team's keys", "#team-keys .vkey", |k| {
            (k.len() == 1).then_some(())
        })
        .await;
    assert_eq!(browser.text("#team-title").await, "Team research");

    // Disabling it here refuses its next request.
    browser
        .goto(&format!("{}/ui/team#key={id}", gateway.url()))
        .await;
    browser.wait_shown("#key-view").await;
    browser
        .wait_for_texts("the toggle", "#key-toggle", |t| {
            (t == ["Disable"]).then_some(())
        })
        .await;
    browser.click("#key-toggle").await;
    browser
        .wait_for_texts("the disabled badge", "#key-state", |t| {
            (t == ["disabled"]).then_some(())
        })
        .await;
    assert_eq!(ask(&gateway, &secret).await, 401);
    // The page never held the secret of a key it did not make.
    assert!(!browser.source().await.contains(&secret[3..]));
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn a_key_made_on_the_page_shows_its_secret_once() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [served("hi")]);
    let gateway = gateway(&upstream, FIRST).await;
    let browser = signed_in(&gateway, DESKTOP).await;
    browser.goto(&format!("{}/ui/team", gateway.url())).await;
    browser.wait_shown("#overview").await;
    browser.type_into("#new-name", "bob").await;
    browser.type_into("#new-team", "ops").await;
    browser.type_into("#new-routes", "anthropic@*").await;
    browser.type_into("#new-month", "25").await;
    browser.click("#create-button").await;
    browser.wait_shown("#created").await;
    let secret = browser.text("#created-secret").await;
    assert!(secret.starts_with("kr-") && secret.len() == 43, "{secret}");
    assert_eq!(ask(&gateway, &secret).await, 200, "it serves at once");
    browser.click("#created-done").await;
    assert!(
        !browser.source().await.contains(&secret[3..]),
        "forgotten once dismissed"
    );
    let listed = admin(&gateway, Method::GET, "/virtual-keys", None).await;
    let bob = &listed["virtual_keys"][0];
    assert_eq!(
        (bob["name"].as_str(), bob["team"].as_str()),
        (Some("bob"), Some("ops"))
    );
    assert_eq!(bob["budget_usd"]["month"], 25.0);
    assert_eq!(bob["routes"], json!(["anthropic@*"]));

    // A refused field is named on the page, and nothing is made.
    browser.type_into("#new-name", "carol").await;
    browser.type_into("#new-day", "-3").await;
    browser.click("#create-button").await;
    // The notice shows the key made before until the refusal replaces it.
    let notice = browser
        .wait_for_texts("the refusal", "#notice", |n| {
            n.first()
                .filter(|t| t.starts_with("budget_usd.day:"))
                .cloned()
        })
        .await;
    assert!(notice.contains("nothing was changed"), "{notice}");
    let listed = admin(&gateway, Method::GET, "/virtual-keys", None).await;
    assert_eq!(listed["virtual_keys"].as_array().unwrap().len(), 1);
    browser.close().await;
    gateway.stop().await;
}

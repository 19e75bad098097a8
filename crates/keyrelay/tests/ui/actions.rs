//! What an operator does in the page: disable, add, remove, check, reload;
//! each shown by what the gateway does next.

use serde_json::Value;
use testkit::FakeUpstream;

use super::*;

async fn admin_keys(gateway: &RunningGateway) -> Value {
    client()
        .get(format!("{}/admin/keys", gateway.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn disabling_a_key_in_the_page_sends_the_next_request_to_another_key() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [served("from the first key")]);
    upstream.on_key(SECOND, [served("from the second key")]);
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    assert_eq!(send_message(&gateway).await, (200, fingerprint(FIRST)));
    let browser = signed_in(&gateway, DESKTOP).await;

    let card = card_of(&browser, &fingerprint(FIRST)).await;
    browser.click(&format!("{card} .act-toggle")).await;
    browser
        .wait_for_texts("the key disabled", &format!("{card} .state-line"), |t| {
            (t.first()? == "Disabled: by an operator").then_some(())
        })
        .await;
    let notice = browser.text("#notice").await;
    assert!(notice.contains("disabled"), "{notice}");

    assert_eq!(send_message(&gateway).await, (200, fingerprint(SECOND)));
    assert_eq!(upstream.hits(FIRST), 1, "the disabled key was not tried");

    // And back.
    browser.click(&format!("{card} .act-toggle")).await;
    browser
        .wait_for_texts("the key enabled", &format!("{card} .badge"), |t| {
            (t.first()? == "available").then_some(())
        })
        .await;
    assert_eq!(
        browser.text(&format!("{card} .act-toggle")).await,
        "Disable"
    );
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn keys_added_in_the_page_serve_the_next_request() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        FIRST,
        [testkit::Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(ADDED, [served("from the added key")]);
    let gateway = gateway(&upstream, FIRST).await;
    assert_eq!(send_message(&gateway).await.0, 401, "no key works yet");
    let browser = signed_in(&gateway, DESKTOP).await;

    // Two keys, with the env vars' separators.
    browser
        .type_into("#add-keys", &format!("{ADDED};\n {ANOTHER}"))
        .await;
    browser.type_into("#add-label", "").await;
    browser.click("#add-button").await;
    let added = [fingerprint(ADDED), fingerprint(ANOTHER)];
    browser
        .wait_for_texts("the added keys", ".key .fp", |fps| {
            added.iter().all(|fp| fps.contains(fp)).then_some(())
        })
        .await;
    let notice = browser.text("#notice").await;
    assert!(
        notice.contains(&added[0]) && notice.contains(&added[1]),
        "{notice}"
    );
    let left = browser
        .js("return document.getElementById('add-keys').value;", vec![])
        .await;
    assert_eq!(left, "", "the keys leave the page once sent");

    assert_eq!(send_message(&gateway).await, (200, fingerprint(ADDED)));
    assert_eq!(upstream.hits(ADDED), 1);
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn removing_a_key_asks_first_and_then_takes_it_out_of_the_pool() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    let browser = signed_in(&gateway, DESKTOP).await;
    let card = card_of(&browser, &fingerprint(SECOND)).await;

    browser.click(&format!("{card} .act-remove")).await;
    browser.wait_shown("#confirm-remove").await;
    let question = browser.text("#confirm-text").await;
    assert!(question.contains(&fingerprint(SECOND)), "{question}");
    browser.click("#confirm-cancel").await;
    let open = browser
        .js(
            "return document.getElementById('confirm-remove').open;",
            vec![],
        )
        .await;
    assert_eq!(open, false);
    assert_eq!(
        admin_keys(&gateway).await["providers"][0]["keys"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "cancelled: nothing removed"
    );

    browser.click(&format!("{card} .act-remove")).await;
    browser.wait_shown("#confirm-ok").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_for_texts("the key gone", ".key .fp", |fps| {
            (fps == [fingerprint(FIRST)]).then_some(())
        })
        .await;
    let view = admin_keys(&gateway).await;
    let left: Vec<&str> = view["providers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["keys"].as_array().unwrap())
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(left, [fingerprint(FIRST)]);
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn keys_are_checked_and_the_configuration_reloaded_from_the_page() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [served("models")]);
    upstream.on_key(
        SECOND,
        [testkit::Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    let browser = signed_in(&gateway, DESKTOP).await;

    let first = card_of(&browser, &fingerprint(FIRST)).await;
    browser.click(&format!("{first} .act-check")).await;
    let notice = browser
        .wait_for_texts("the check's answer", "#notice", |t| {
            t.first().filter(|t| t.starts_with("Checked")).cloned()
        })
        .await;
    assert!(
        notice.contains(&format!("{}: valid", fingerprint(FIRST))),
        "{notice}"
    );
    assert_eq!((upstream.hits(FIRST), upstream.hits(SECOND)), (1, 0));

    browser
        .click(".provider[data-provider=anthropic] .provider-head button")
        .await;
    browser
        .wait_for_texts("the provider's check", "#notice", |t| {
            t.first()
                .filter(|t| t.starts_with("Checked 2 anthropic keys: 1 valid, 1 invalid"))
                .map(|_| ())
        })
        .await;
    let second = card_of(&browser, &fingerprint(SECOND)).await;
    browser
        .wait_for_texts(
            "the invalid key disabled",
            &format!("{second} .badge"),
            |t| (t.first()? == "disabled").then_some(()),
        )
        .await;

    browser.click("#reload").await;
    browser
        .wait_for_texts("the reload's answer", "#notice", |t| {
            t.first()
                .filter(|t| t.starts_with("Configuration reloaded"))
                .map(|_| ())
        })
        .await;
    browser.close().await;
    gateway.stop().await;
}

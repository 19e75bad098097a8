//! No key material in the page, its files, or anything it receives: only
//! fingerprints. The keys pass through the page once, when added.

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

/// Pieces of each key that must never show: the whole key, its start and
/// its end beyond the fingerprint's last four characters, and the
/// `test-key-` every one of them starts with.
fn secrets() -> Vec<String> {
    let mut pieces = vec!["test-key".to_owned()];
    for key in [FIRST, SECOND, THIRD, ADDED] {
        pieces.push(key.to_owned());
        pieces.push(key[9..].to_owned());
        pieces.push(key[9..20].to_owned());
        pieces.push(key[key.len() - 12..key.len() - 4].to_owned());
    }
    pieces
}

fn assert_no_key_in(what: &str, text: &str) {
    for secret in secrets() {
        assert!(
            !text.contains(&secret),
            "key material `{secret}` in {what}: {text}"
        );
    }
}

#[tokio::test]
async fn no_key_material_reaches_the_page_its_files_or_what_it_fetches() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(FIRST, [rate_limited(600)]);
    upstream.on_key(
        SECOND,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(THIRD, [served("hi")]);
    upstream.on_key(ADDED, [served("hi")]);
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND},{THIRD}")).await;
    assert_eq!(send_message(&gateway).await.0, 200);
    let browser = signed_in(&gateway, DESKTOP).await;
    browser.type_into("#add-keys", ADDED).await;
    browser.click("#add-button").await;
    browser
        .wait_for_texts("the added key", ".key .fp", |fps| {
            fps.contains(&fingerprint(ADDED)).then_some(())
        })
        .await;
    assert_eq!(send_message(&gateway).await.0, 200);
    browser
        .wait_for_texts("the second request", ".request", |r| {
            (r.len() == 2).then_some(())
        })
        .await;

    // What a person sees, and the DOM behind it.
    let seen = browser.text("body").await;
    for fp in [FIRST, SECOND, THIRD, ADDED].map(fingerprint) {
        assert!(seen.contains(&fp), "{fp} is shown: {seen}");
    }
    assert_no_key_in("the page's text", &seen);
    assert_no_key_in("the page's DOM", &browser.source().await);
    let fields = browser
        .js(
            "return [...document.querySelectorAll('input, textarea, select')].map((e) => e.value).join('\\n') + '\\n' + JSON.stringify({...sessionStorage}) + JSON.stringify({...localStorage}) + document.cookie;",
            vec![],
        )
        .await;
    assert_no_key_in("form fields and storage", fields.as_str().unwrap());

    // What the page receives, fetched as the page does (its own token).
    let received = browser
        .js_async(
            "const auth = { Authorization: 'Bearer ' + sessionStorage.getItem('keyrelay.adminToken') };
             const texts = await Promise.all(['admin/keys', 'admin/requests?limit=1000', 'ui/app.js', 'ui/app.css', 'ui']
               .map((path) => fetch(path, { headers: auth }).then((r) => r.text())));
             return JSON.stringify(texts);",
        )
        .await;
    let received = received.as_str().unwrap();
    assert!(received.contains(&fingerprint(ADDED)), "{received}");
    assert_no_key_in("what the page fetches", received);
    let addresses = browser
        .js(
            "return performance.getEntriesByType('resource').map((e) => e.name).join(' ');",
            vec![json!(null)],
        )
        .await;
    assert_no_key_in("the addresses the page loaded", addresses.as_str().unwrap());

    // The files and the admin answers, fetched by the test itself.
    for path in ["/ui", "/ui/app.js", "/ui/app.css", "/ui/icon.svg"] {
        let body = client()
            .get(format!("{}{path}", gateway.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_no_key_in(path, &body);
    }
    for path in ["/admin/keys", "/admin/requests?limit=1000"] {
        let response = client()
            .get(format!("{}{path}", gateway.url()))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let headers = format!("{:?}", response.headers());
        assert_no_key_in(&format!("{path}'s headers"), &headers);
        assert_no_key_in(path, &response.text().await.unwrap());
    }
    browser.close().await;
    gateway.stop().await;
}

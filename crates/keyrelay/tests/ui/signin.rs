//! Signing in with the admin token: a wrong one is refused, the right one
//! stays in the tab (never in an address), and the keyboard alone will do.

use serde_json::json;
use testkit::FakeUpstream;

use super::*;

#[tokio::test]
async fn a_wrong_admin_token_shows_an_error_and_no_pool() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, FIRST).await;
    let browser = Browser::launch(DESKTOP.0, DESKTOP.1).await;
    browser.goto(&format!("{}/ui", gateway.url())).await;
    browser.wait_shown("#token").await;
    browser.type_into("#token", "admin-token-for-ui-test").await;
    browser.click("#signin-button").await;
    let error = browser
        .wait_for_texts("the sign-in error", "#signin-error", |t| {
            t.first().filter(|t| !t.is_empty()).cloned()
        })
        .await;
    assert!(error.contains("not accepted"), "{error}");
    let state = browser
        .js(
            "return [document.getElementById('dashboard').hidden, sessionStorage.length, document.querySelectorAll('.key').length];",
            vec![],
        )
        .await;
    assert_eq!(state, json!([true, 0, 0]), "nothing shown, nothing kept");
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn signing_in_shows_the_pool_and_keeps_the_token_in_the_tab_never_in_an_address() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, &format!("{FIRST},{SECOND}")).await;
    let browser = signed_in(&gateway, DESKTOP).await;
    let shown = browser
        .texts(".provider[data-provider=anthropic] .key .fp")
        .await;
    assert_eq!(shown, [fingerprint(FIRST), fingerprint(SECOND)]);
    assert_eq!(
        browser.texts(".key .badge").await,
        ["available", "available"]
    );

    let kept = browser
        .js(
            "return sessionStorage.getItem('keyrelay.adminToken');",
            vec![],
        )
        .await;
    assert_eq!(kept, json!(ADMIN));
    let addresses = browser
        .js(
            "return [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)];",
            vec![],
        )
        .await;
    let addresses: Vec<String> = serde_json::from_value(addresses).unwrap();
    assert!(
        addresses.iter().any(|a| a.contains("/admin/keys")),
        "{addresses:?}"
    );
    for address in &addresses {
        assert!(!address.contains(ADMIN), "token in an address: {address}");
    }

    // A reload of the page stays signed in (same tab); signing out forgets.
    browser.goto(&format!("{}/ui", gateway.url())).await;
    browser
        .wait_for_texts("the pool after a reload", ".key .fp", |fps| {
            (fps.len() == 2).then_some(())
        })
        .await;
    browser.click("#signout").await;
    browser.wait_shown("#signin").await;
    let kept = browser.js("return sessionStorage.length;", vec![]).await;
    assert_eq!(kept, json!(0));
    browser.close().await;
    gateway.stop().await;
}

#[tokio::test]
async fn the_keyboard_alone_signs_in_and_focus_survives_the_live_updates() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway(&upstream, FIRST).await;
    let browser = Browser::launch(DESKTOP.0, DESKTOP.1).await;
    browser.goto(&format!("{}/ui", gateway.url())).await;
    browser.wait_shown("#token").await;
    // The field has focus at once; Enter submits.
    browser.keys(&format!("{ADMIN}\u{E007}")).await;
    browser
        .wait_for_texts("the pool", ".key .fp", |fps| {
            (fps == [fingerprint(FIRST)]).then_some(())
        })
        .await;

    // Tab to the key's first button; it shows a focus ring.
    let mut focused = String::new();
    for _ in 0..20 {
        browser.keys("\u{E004}").await;
        focused = browser
            .js(
                "const e = document.activeElement; return e.closest('.key') ? e.className : '';",
                vec![],
            )
            .await
            .as_str()
            .unwrap()
            .to_owned();
        if !focused.is_empty() {
            break;
        }
    }
    assert_eq!(focused, "act-toggle", "Tab reaches the key's buttons");
    let ring = browser
        .js(
            "return getComputedStyle(document.activeElement).outlineStyle;",
            vec![],
        )
        .await;
    assert_eq!(ring, json!("solid"), "a visible focus ring");

    // Live updates do not move focus away from it.
    let before = browser.text("#updated").await;
    browser
        .wait_for_texts("a live update", "#updated", |t| {
            t.first().filter(|t| **t != before).map(|_| ())
        })
        .await;
    let still = browser
        .js(
            "const e = document.activeElement; return e.classList.contains('act-toggle') && e.isConnected;",
            vec![],
        )
        .await;
    assert_eq!(still, json!(true));

    // Enter on it disables the key.
    browser.keys("\u{E007}").await;
    browser
        .wait_for_texts("the key disabled", ".key .badge", |t| {
            (t == ["disabled"]).then_some(())
        })
        .await;
    browser.close().await;
    gateway.stop().await;
}

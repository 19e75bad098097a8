//! Screenshots of a busy dashboard, at desktop and phone width and in the
//! dark scheme, left under target/ui/ (docs/dashboard.png is one of them).

use serde_json::json;
use testkit::{FakeUpstream, Reply};

use super::*;

/// A pool with a cooling key, a disabled one, one serving, and requests.
async fn busy_gateway(upstream: &FakeUpstream) -> RunningGateway {
    upstream.on_key(FIRST, [served("hi")]);
    upstream.on_key(SECOND, [rate_limited(1800)]);
    upstream.on_key(
        THIRD,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    let config = format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n");
    let gateway = gateway_with(upstream, &format!("{SECOND},{THIRD},{FIRST}"), &config).await;
    for _ in 0..3 {
        assert_eq!(send_message(&gateway).await.0, 200);
    }
    gateway
}

async fn no_sideways_scrolling(browser: &Browser) {
    let widths = browser
        .js(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await;
    let [scroll, inner] = [widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap()];
    assert!(
        scroll <= inner,
        "the page scrolls sideways: {scroll} > {inner}"
    );
}

#[tokio::test]
async fn screenshots_of_the_dashboard_at_desktop_and_phone_width() {
    let upstream = FakeUpstream::start().await;
    let gateway = busy_gateway(&upstream).await;
    // Tall enough for the whole page.
    let browser = signed_in(&gateway, (DESKTOP.0, 1480)).await;
    browser
        .wait_for_texts("three requests", ".request", |r| {
            (r.len() == 3).then_some(())
        })
        .await;
    let states = browser.texts(".key .badge").await;
    assert_eq!(states, ["cooling", "disabled", "available"]);
    let dir = screenshot_dir();
    browser.screenshot(&dir.join("dashboard.png")).await;
    no_sideways_scrolling(&browser).await;

    browser.resize(PHONE.0, PHONE.1).await;
    let width = browser.js("return window.innerWidth;", vec![]).await;
    assert!(width.as_u64().unwrap() <= 400, "{width}");
    no_sideways_scrolling(&browser).await;
    // Every button stays whole on screen.
    let cut = browser
        .js(
            "return [...document.querySelectorAll('button')].filter((b) => b.offsetParent && b.getBoundingClientRect().right > window.innerWidth).length;",
            vec![],
        )
        .await;
    assert_eq!(cut, json!(0));
    browser.screenshot(&dir.join("dashboard-phone.png")).await;
    browser.close().await;

    // The dark scheme.
    let dark = Browser::launch_with(
        DESKTOP.0,
        DESKTOP.1,
        &[
            "--force-dark-mode",
            "--blink-settings=preferredColorScheme=0",
        ],
    )
    .await;
    dark.goto(&format!("{}/ui", gateway.url())).await;
    dark.wait_shown("#token").await;
    let scheme = dark
        .js(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(document.body).backgroundColor];",
            vec![],
        )
        .await;
    assert_eq!(scheme, json!([true, "rgb(15, 19, 24)"]));
    dark.type_into("#token", ADMIN).await;
    dark.click("#signin-button").await;
    dark.wait_for_texts("three requests", ".request", |r| {
        (r.len() == 3).then_some(())
    })
    .await;
    dark.screenshot(&dir.join("dashboard-dark.png")).await;
    dark.close().await;
    gateway.stop().await;
}

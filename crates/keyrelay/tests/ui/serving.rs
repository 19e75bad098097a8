//! How `/ui` is served: only with an admin token configured, self-contained
//! (nothing from elsewhere), under a strict content security policy.

use testkit::FakeUpstream;

use super::*;

#[tokio::test]
async fn without_an_admin_token_the_dashboard_does_not_exist() {
    let upstream = FakeUpstream::start().await;
    let gateway = gateway_with(&upstream, FIRST, "").await;
    for path in ["/ui", "/ui/app.js", "/ui/app.css", "/admin/keys"] {
        let response = client()
            .get(format!("{}{path}", gateway.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    gateway.stop().await;
}

#[tokio::test]
async fn the_dashboard_is_self_contained_under_a_strict_policy_and_the_page_never_cached() {
    let upstream = FakeUpstream::start().await;
    // An access token guards the API; the page itself holds nothing and
    // needs none (its data needs the admin token).
    let config = format!(
        "[server]\nadmin_tokens = [\"{ADMIN}\"]\naccess_tokens = [\"access-for-ui-tests\"]\n"
    );
    let gateway = gateway_with(&upstream, FIRST, &config).await;
    for (path, content_type, cache) in [
        ("/ui", "text/html; charset=utf-8", "no-store"),
        ("/ui/app.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/ui/app.css", "text/css; charset=utf-8", "no-cache"),
        ("/ui/icon.svg", "image/svg+xml", "no-cache"),
    ] {
        let response = client()
            .get(format!("{}{path}", gateway.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(header("cache-control"), cache, "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let policy = header("content-security-policy");
        assert!(policy.starts_with("default-src 'self';"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        let body = response.text().await.unwrap();
        // Nothing from elsewhere: no CDN, no fonts, no scripts but ours.
        let outside = body
            .replace("http://www.w3.org/2000/svg", "")
            .matches("http")
            .count();
        assert_eq!(outside, 0, "{path} names another site");
    }
    let unknown = client()
        .get(format!("{}/ui/nothing.js", gateway.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    gateway.stop().await;
}

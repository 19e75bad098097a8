//! `/admin`: tokens, the key view, key changes that serve the next request
//! and survive a restart, disable/enable, reload, and the request log.

use std::path::PathBuf;

use serde_json::{json, Value};
use testkit::{FakeUpstream, Reply};

use super::*;

const ADMIN: &str = "admin-token-for-tests";
const ACCESS: &str = "access-token-for-tests";
const ADDED: &str = "test-key-added-000000000009";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrelay-admin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn admin(
    gateway: &RunningGateway,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, format!("{}/admin{path}", gateway.url()))
        .bearer_auth(ADMIN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn config_with(keys_file: Option<&std::path::Path>) -> String {
    let mut config = format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n");
    if let Some(path) = keys_file {
        config.push_str(&format!("keys_file = \"{}\"\n", path.display()));
    }
    config
}

async fn anthropic_gateway(upstream: &FakeUpstream, keys: &str, config: &str) -> RunningGateway {
    let base = upstream.base_url();
    start(
        &[
            ("ANTHROPIC_API_KEYS", keys),
            ("ANTHROPIC_UPSTREAM_BASE_URL", &base),
        ],
        config,
    )
    .await
}

fn all_keys(view: &Value) -> Vec<Value> {
    view["providers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["keys"].as_array().unwrap().clone())
        .collect()
}

fn key_named<'a>(keys: &'a [Value], tail: &str) -> &'a Value {
    keys.iter()
        .find(|k| k["key"].as_str().unwrap().contains(tail))
        .unwrap_or_else(|| panic!("no key …{tail} in {keys:?}"))
}

#[tokio::test]
async fn without_an_admin_token_admin_and_metrics_do_not_exist() {
    let upstream = FakeUpstream::start().await;
    let gateway = anthropic_gateway(&upstream, GOOD, "").await;
    for path in ["/admin/keys", "/metrics"] {
        let response = client()
            .get(format!("{}{path}", gateway.url()))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn admin_needs_the_admin_token_and_an_access_token_is_not_one() {
    let upstream = FakeUpstream::start().await;
    let config = format!("{}access_tokens = [\"{ACCESS}\"]\n", config_with(None));
    let gateway = anthropic_gateway(&upstream, GOOD, &config).await;
    let get = |token: Option<&'static str>| {
        let mut request = client().get(format!("{}/admin/keys", gateway.url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some(ACCESS)).await.unwrap().status(), 401);
    assert_eq!(
        get(Some("admin-token-for-test")).await.unwrap().status(),
        401
    );
    assert_eq!(get(Some(ADMIN)).await.unwrap().status(), 200);
    // And the admin token is no access token.
    let proxied = client()
        .post(format!("{}/v1/messages", gateway.url()))
        .bearer_auth(ADMIN)
        .json(&message_request("claude-sonnet-4-5", false))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 401);
}

#[tokio::test]
async fn the_key_view_shows_every_key_by_fingerprint_and_nothing_of_any_key() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "30"),
        ],
    );
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = anthropic_gateway(&upstream, &keys, &config_with(None)).await;
    let served = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(served.status(), 200);

    let (status, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    assert_eq!(status, 200);
    let text = view.to_string();
    for secret in [LIMITED, GOOD, &LIMITED[..16], &GOOD[9..]] {
        assert!(!text.contains(secret), "key material in {text}");
    }
    let keys = all_keys(&view);
    assert_eq!(keys.len(), 2, "{view}");
    let limited = key_named(&keys, "0002");
    assert_eq!(limited["provider"], "anthropic");
    assert_eq!(limited["id"].as_str().unwrap().len(), 12);
    assert_eq!(limited["state"], "cooling");
    assert_eq!(limited["cooldown"]["scope"], "key");
    assert_eq!(limited["cooldown"]["class"], "rate_limited");
    assert!(limited["cooldown"]["remaining_ms"].as_u64().unwrap() > 25_000);
    assert_eq!(limited["outcomes"]["rate_limited"], 1);
    assert_eq!(limited["last_error"]["class"], "rate_limited");
    assert!(limited["last_error"]["at_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let good = key_named(&keys, "0003");
    assert_eq!(
        (good["state"].as_str(), good["requests"].as_u64()),
        (Some("available"), Some(1))
    );
    assert_eq!(good["requests_last_minute"], 1);
}

#[tokio::test]
async fn a_key_added_through_the_api_serves_the_next_request_and_survives_a_restart() {
    let dir = temp_dir("add");
    let keys_file = dir.join("keys.toml");
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(
        ADDED,
        [Reply::json(200, anthropic_message("from the new key"))],
    );
    let config = config_with(Some(&keys_file));
    let gateway = anthropic_gateway(&upstream, INVALID, &config).await;
    let first = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(first.status(), 401);

    let (status, added) = admin(
        &gateway,
        reqwest::Method::POST,
        "/keys",
        Some(json!({"provider": "anthropic", "keys": [ADDED], "label": "team-a"})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert!(!added.to_string().contains(ADDED), "never echoed: {added}");
    assert_eq!(added["keys"][0]["key"], "team-a");
    assert_eq!(added["persisted"], true);
    let id = added["keys"][0]["id"].as_str().unwrap().to_owned();

    let next = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(next.status(), 200);
    assert_eq!(header(&next, "x-keyrelay-key"), "team-a");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the keys file is private");
    }
    gateway.stop().await;

    // A new process over the same keys file has the key.
    let restarted = anthropic_gateway(&upstream, INVALID, &config).await;
    let (_, view) = admin(&restarted, reqwest::Method::GET, "/keys", None).await;
    let keys = all_keys(&view);
    assert!(keys.iter().any(|k| k["id"] == id.as_str()), "{view}");
    let again = post_messages(&restarted, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(again.status(), 200);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_keys_file_an_added_key_lives_in_memory_and_says_so() {
    let upstream = FakeUpstream::start().await;
    let gateway = anthropic_gateway(&upstream, GOOD, &config_with(None)).await;
    let (status, added) = admin(
        &gateway,
        reqwest::Method::POST,
        "/keys",
        Some(json!({"provider": "anthropic", "keys": [format!("{ADDED}, {LIMITED}")]})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(added["persisted"], false);
    assert!(added["note"].as_str().unwrap().contains("memory only"));
    assert_eq!(
        added["keys"].as_array().unwrap().len(),
        2,
        "separators as in the env vars"
    );

    for (body, why) in [
        (
            json!({"provider": "nowhere", "keys": [ADDED]}),
            "unknown provider",
        ),
        (json!({"provider": "anthropic", "keys": []}), "no keys"),
        (json!({"provider": "anthropic"}), "malformed"),
    ] {
        let (status, error) = admin(&gateway, reqwest::Method::POST, "/keys", Some(body)).await;
        assert_eq!(status, 400, "{why}: {error}");
        assert!(error["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn a_disabled_key_is_not_used_until_enabled_and_a_removed_key_is_gone() {
    let dir = temp_dir("disable");
    let keys_file = dir.join("keys.toml");
    let upstream = FakeUpstream::start().await;
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("good"))]);
    upstream.on_key(LIMITED, [Reply::json(200, anthropic_message("other"))]);
    let keys = format!("{GOOD},{LIMITED}");
    let gateway = anthropic_gateway(&upstream, &keys, &config_with(Some(&keys_file))).await;
    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let good_id = key_named(&all_keys(&view), "0003")["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, _) = admin(
        &gateway,
        reqwest::Method::POST,
        &format!("/keys/{good_id}/disable"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for _ in 0..3 {
        post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    }
    assert_eq!((upstream.hits(GOOD), upstream.hits(LIMITED)), (0, 3));
    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let good = key_named(&all_keys(&view), "0003").clone();
    assert_eq!(
        (good["state"].as_str(), good["disabled_reason"].as_str()),
        (Some("disabled"), Some("disabled_by_admin"))
    );

    let (status, _) = admin(
        &gateway,
        reqwest::Method::POST,
        &format!("/keys/{good_id}/enable"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = admin(
        &gateway,
        reqwest::Method::POST,
        "/keys/000000000000/disable",
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Removed: out of the pool now, and after a reload, though the
    // environment still lists it.
    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let other_id = key_named(&all_keys(&view), "0002")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, removed) = admin(
        &gateway,
        reqwest::Method::DELETE,
        &format!("/keys/{other_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{removed}");
    let (status, _) = admin(&gateway, reqwest::Method::POST, "/reload", None).await;
    assert_eq!(status, 200);
    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let ids: Vec<String> = all_keys(&view)
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&good_id));
    for _ in 0..2 {
        let served = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
        assert_eq!(served.status(), 200);
    }
    assert_eq!(
        upstream.hits(LIMITED),
        3,
        "the removed key served nothing more"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn reload_picks_up_the_keys_file_keeps_state_and_refuses_a_broken_one() {
    let dir = temp_dir("reload");
    let keys_file = dir.join("keys.toml");
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "120"),
        ],
    );
    upstream.on_key(ADDED, [Reply::json(200, anthropic_message("added"))]);
    let gateway = anthropic_gateway(&upstream, LIMITED, &config_with(Some(&keys_file))).await;
    let limited = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(limited.status(), 429);

    std::fs::write(
        &keys_file,
        format!("[providers.anthropic]\nkeys = [\"{ADDED}\"]\n"),
    )
    .unwrap();
    let (status, reloaded) = admin(&gateway, reqwest::Method::POST, "/reload", None).await;
    assert_eq!(status, 200, "{reloaded}");
    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let keys = all_keys(&view);
    assert_eq!(
        key_named(&keys, "0002")["state"],
        "cooling",
        "state kept over the reload"
    );
    let served = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!((served.status().as_u16(), attempts(&served)), (200, 1));

    std::fs::write(&keys_file, "[providers.anthropic\nkeys = oops").unwrap();
    let (status, refused) = admin(&gateway, reqwest::Method::POST, "/reload", None).await;
    assert_eq!(status, 409, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("keys file"));
    let still = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(still.status(), 200, "the running configuration stays");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_request_log_names_each_attempt_and_the_tokens_used() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    let keys = format!("{INVALID},{GOOD}");
    let gateway = anthropic_gateway(&upstream, &keys, &config_with(None)).await;
    let whole = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(whole.status(), 200);
    whole.bytes().await.unwrap();
    upstream.on_key(GOOD, [Reply::anthropic_stream("Hello brave world")]);
    let streamed = post_messages(&gateway, &message_request("claude-sonnet-4-5", true)).await;
    streamed.text().await.unwrap();

    let requests = testkit::eventually_async(
        "both requests logged",
        std::time::Duration::from_secs(5),
        || async {
            let (_, body) = admin(&gateway, reqwest::Method::GET, "/requests?limit=10", None).await;
            let listed = body["requests"].as_array().cloned().unwrap_or_default();
            (listed.len() == 2).then_some(listed)
        },
    )
    .await;
    let text = serde_json::to_string(&requests).unwrap();
    assert!(!text.contains(GOOD) && !text.contains(INVALID), "{text}");
    // Newest first.
    let (stream, first) = (&requests[0], &requests[1]);
    assert_eq!(first["front"], "messages");
    assert_eq!(first["provider"], "anthropic");
    assert_eq!(first["model"], "claude-sonnet-4-5");
    assert_eq!(first["status"], 200);
    assert_eq!(first["path"], "/v1/messages");
    assert_eq!(
        (
            first["input_tokens"].as_u64(),
            first["output_tokens"].as_u64()
        ),
        (Some(9), Some(3))
    );
    let classes: Vec<&str> = first["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["key_invalid", "success"]);
    assert_eq!(first["attempts"][0]["status"], 401);
    assert!(first["attempts"][0]["key"]
        .as_str()
        .unwrap()
        .starts_with("…0001#"));
    assert_eq!(first["ended"], "complete");
    assert_eq!(stream["ended"], "complete");
    assert!(
        stream["input_tokens"].is_u64(),
        "a stream's usage is read too: {stream}"
    );
    let (_, limited) = admin(&gateway, reqwest::Method::GET, "/requests?limit=1", None).await;
    assert_eq!(limited["requests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn metrics_show_requests_and_each_key_by_fingerprint_behind_the_admin_token() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        LIMITED,
        [
            Reply::fixture(429, "fixtures/errors/anthropic_rate_limit.json")
                .header("retry-after", "90"),
        ],
    );
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    let keys = format!("{LIMITED},{GOOD}");
    let gateway = anthropic_gateway(&upstream, &keys, &config_with(None)).await;
    let served = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    served.bytes().await.unwrap();

    let url = format!("{}/metrics", gateway.url());
    assert_eq!(client().get(&url).send().await.unwrap().status(), 401);
    let text = testkit::eventually_async(
        "the request is counted",
        std::time::Duration::from_secs(5),
        || async {
            let text = client()
                .get(&url)
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            text.contains("keyrelay_requests_total{").then_some(text)
        },
    )
    .await;
    for secret in [LIMITED, GOOD, &LIMITED[..16]] {
        assert!(!text.contains(secret), "key material in metrics");
    }
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_owned()
    };
    assert!(line("keyrelay_requests_total{").contains("status=\"200\""));
    assert!(text.contains("keyrelay_rotations_total{"), "{text}");
    assert!(text.contains("keyrelay_upstream_seconds_bucket{"), "{text}");
    assert!(text.contains("keyrelay_overhead_seconds_bucket{"), "{text}");
    assert!(text.contains("keyrelay_tokens_total{"), "{text}");
    let cooling = text
        .lines()
        .find(|l| {
            l.starts_with("keyrelay_key_state{")
                && l.contains("0002#")
                && l.contains("state=\"cooling\"")
        })
        .unwrap_or_else(|| panic!("{text}"));
    assert!(cooling.ends_with(" 1"), "{cooling}");
    let cooldown = text
        .lines()
        .find(|l| l.starts_with("keyrelay_key_cooldown_seconds{") && l.contains("0002#"))
        .unwrap();
    let seconds: f64 = cooldown.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds > 80.0 && seconds <= 90.0, "{cooldown}");
}

#[tokio::test]
async fn one_key_can_be_checked_and_the_key_view_shows_its_last_hour() {
    let upstream = FakeUpstream::start().await;
    upstream.on_key(
        INVALID,
        [Reply::fixture(
            401,
            "fixtures/errors/anthropic_invalid_key.json",
        )],
    );
    upstream.on_key(GOOD, [Reply::json(200, anthropic_message("hi"))]);
    let keys = format!("{INVALID},{GOOD}");
    let gateway = anthropic_gateway(&upstream, &keys, &config_with(None)).await;
    let served = post_messages(&gateway, &message_request("claude-sonnet-4-5", false)).await;
    assert_eq!(served.status(), 200);

    let (_, view) = admin(&gateway, reqwest::Method::GET, "/keys", None).await;
    let keys = all_keys(&view);
    let minutes = |tail: &str| {
        let history = key_named(&keys, tail)["history"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["minute_start_ms"].as_u64().unwrap() % 60_000, 0);
        (
            history[0]["requests"].as_u64(),
            history[0]["failures"].as_u64(),
        )
    };
    assert_eq!(minutes("0001"), (Some(1), Some(1)));
    assert_eq!(minutes("0003"), (Some(1), Some(0)));

    let invalid = key_named(&keys, "0001")["id"].as_str().unwrap().to_owned();
    let good = key_named(&keys, "0003")["id"].as_str().unwrap().to_owned();
    let hits = upstream.hits(GOOD);
    let path = format!("/keys/{good}/check?provider=anthropic");
    let (status, checked) = admin(&gateway, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["checks"][0]["verdict"], "valid");
    assert_eq!(checked["checks"][0]["key"], fingerprint(GOOD));
    assert_eq!(checked["checks"].as_array().unwrap().len(), 1);
    assert_eq!(upstream.hits(GOOD), hits + 1, "only that key was checked");
    let path = format!("/keys/{invalid}/check");
    let (_, checked) = admin(&gateway, reqwest::Method::POST, &path, None).await;
    assert_eq!(checked["checks"][0]["verdict"], "invalid");
    let (status, _) = admin(
        &gateway,
        reqwest::Method::POST,
        "/keys/000000000000/check",
        None,
    )
    .await;
    assert_eq!(status, 404);
}

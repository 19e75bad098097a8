//! An admin API that a careless or hostile caller cannot use to hurt the
//! gateway: keys that could never be sent are refused where they come in,
//! unknown fields are refused, a keys file broken or edited by hand is never
//! overwritten, the `Bearer` scheme is read in any case, and the answer when
//! every key is disabled says who disabled them.

use std::path::{Path, PathBuf};

use keyrelay::config::Config;
use keyrelay::env::MapEnv;
use keyrelay::server::{RunningGateway, ServeSettings};
use reqwest::Method;
use testkit::Reply;

use super::*;

const ADMIN: &str = "admin-token-hostile-tests";
const ACCESS: &str = "access-token-hostile-tests";
/// Keys the tests add, edit in by hand, or try to sneak in.
const ADDED: &str = "test-key-added-hostile-00000001";
const ANOTHER: &str = "test-key-another-hostile-000002";
const BY_HAND: &str = "test-key-by-hand-hostile-000003";
/// What the refusal of a key names: the rule.
const RULE: &str = "printable ASCII only";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "keyrelay-admin-faults-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `[server]` section: admin tokens and, when given, a keys file.
fn server(keys_file: Option<&Path>) -> String {
    let mut toml = format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n");
    if let Some(path) = keys_file {
        toml.push_str(&format!("keys_file = \"{}\"\n", path.display()));
    }
    toml
}

/// An admin call with the admin token; the status and the JSON answer.
async fn admin(rig: &Rig, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = client()
        .request(method, rig.url(&format!("/admin{path}")))
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

/// The fingerprint ids of `provider`'s keys, as the admin API lists them
/// (sorted).
async fn key_ids(rig: &Rig, provider: &str) -> Vec<String> {
    let (status, view) = admin(rig, Method::GET, "/keys", None).await;
    assert_eq!(status, 200, "{view}");
    view["providers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"] == provider)
        .flat_map(|p| p["keys"].as_array().unwrap().clone())
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn id_of(key: &str) -> String {
    keypool::Fingerprint::of(key, None).id().to_owned()
}

/// The ids of `keys`, sorted as [`key_ids`] lists them.
fn ids(keys: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = keys.iter().map(|k| id_of(k)).collect();
    ids.sort();
    ids
}

/// Asserts an admin error: its status, type, and that it names none of `keys`.
fn assert_problem(status: u16, body: &Value, want: u16, kind: &str, keys: &[&str]) -> String {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    let text = body.to_string();
    assert!(!text.contains("hostile"), "key material in {body}");
    for key in keys {
        assert!(!text.contains(&key[9..]), "key material in {body}");
    }
    message
}

#[tokio::test]
async fn keys_with_control_characters_or_inner_spaces_are_refused_naming_the_rule() {
    let dir = temp_dir("rule");
    let keys_file = dir.join("keys.toml");
    let rig = Rig::start(&server(Some(&keys_file))).await;
    let (status, added) = admin(
        &rig,
        Method::POST,
        "/keys",
        Some(json!({"provider": "gemini", "keys": [ADDED]})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let written = std::fs::read(&keys_file).unwrap();

    for (key, holds) in [
        ("test-key-nul-hostile\0-0000004", "a control character"),
        ("test-key-bell-hostile\u{7}-000005", "a control character"),
        ("test-key-space-hostile 00000006", "a space or tab"),
        ("test-key-tab-hostile\t000000007", "a space or tab"),
    ] {
        let (status, body) = admin(
            &rig,
            Method::POST,
            "/keys",
            Some(json!({"provider": "gemini", "keys": [ANOTHER, key]})),
        )
        .await;
        let message = assert_problem(status, &body, 400, "invalid_request_error", &[key, ANOTHER]);
        assert!(message.contains(RULE), "{message}");
        assert!(message.contains(holds), "{message}");
        assert!(message.contains("keys[1]"), "names the entry: {message}");
    }
    assert_eq!(
        key_ids(&rig, "gemini").await,
        ids(&[GEMINI, ADDED]),
        "nothing added, not even the good key beside a refused one"
    );
    assert_eq!(std::fs::read(&keys_file).unwrap(), written);
    rig.bystander().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unknown_fields_and_query_parameters_are_refused() {
    let rig = Rig::start(&server(None)).await;
    let (status, body) = admin(
        &rig,
        Method::POST,
        "/keys",
        Some(json!({"provider": "gemini", "keys": [ADDED], "lable": "team-a"})),
    )
    .await;
    let message = assert_problem(status, &body, 400, "invalid_request_error", &[ADDED]);
    assert!(message.contains("unknown field"), "{message}");
    assert!(
        message.contains("`provider`, `keys` and `label`"),
        "{message}"
    );
    assert_eq!(key_ids(&rig, "gemini").await, ids(&[GEMINI]));

    // A misspelt `provider` would widen the removal to every provider.
    let path = format!("/keys/{}?provder=gemini", id_of(GEMINI));
    let (status, body) = admin(&rig, Method::DELETE, &path, None).await;
    let message = assert_problem(status, &body, 400, "invalid_request_error", &[]);
    assert!(message.contains("query parameter"), "{message}");
    assert_eq!(key_ids(&rig, "gemini").await, ids(&[GEMINI]));
}

/// Adds `ADDED` through the admin API, so the keys file is keyrelay's own,
/// then breaks it by hand; returns what is on disk.
async fn break_by_hand(rig: &Rig, keys_file: &Path) -> Vec<u8> {
    let (status, added) = admin(
        rig,
        Method::POST,
        "/keys",
        Some(json!({"provider": "gemini", "keys": [ADDED]})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let broken = format!("[providers.gemini\nkeys = [\"{BY_HAND}\", \"{ADDED}\"]\n");
    std::fs::write(keys_file, &broken).unwrap();
    broken.into_bytes()
}

/// Adding and removing keys answer 409 and leave `keys_file` as `on_disk`.
async fn changes_are_refused(rig: &Rig, keys_file: &Path, on_disk: &[u8], why: &str) {
    let (status, body) = admin(
        rig,
        Method::POST,
        "/keys",
        Some(json!({"provider": "gemini", "keys": [ANOTHER]})),
    )
    .await;
    let message = assert_problem(
        status,
        &body,
        409,
        "keys_file_conflict",
        &[ANOTHER, BY_HAND],
    );
    assert!(message.contains(why), "{message}");
    assert!(message.contains("reload"), "says what to do: {message}");
    let (status, body) = admin(
        rig,
        Method::DELETE,
        &format!("/keys/{}", id_of(ADDED)),
        None,
    )
    .await;
    assert_problem(status, &body, 409, "keys_file_conflict", &[BY_HAND]);
    assert_eq!(
        std::fs::read(keys_file).unwrap(),
        on_disk,
        "the file is untouched"
    );
    assert_eq!(
        key_ids(rig, "gemini").await,
        ids(&[GEMINI, ADDED]),
        "the running pool is untouched"
    );
}

#[tokio::test]
async fn a_keys_file_broken_by_hand_is_not_overwritten_until_fixed_and_reloaded() {
    let dir = temp_dir("broken-reloaded");
    let keys_file = dir.join("keys.toml");
    let rig = Rig::start(&server(Some(&keys_file))).await;
    let broken = break_by_hand(&rig, &keys_file).await;
    let (status, body) = admin(&rig, Method::POST, "/reload", None).await;
    assert_problem(status, &body, 409, "change_refused", &[BY_HAND]);
    changes_are_refused(&rig, &keys_file, &broken, "cannot read").await;

    // Fixed by hand: still refused until keyrelay has read it.
    let fixed = format!("[providers.gemini]\nkeys = [\"{BY_HAND}\", \"{ADDED}\"]\n");
    std::fs::write(&keys_file, &fixed).unwrap();
    changes_are_refused(&rig, &keys_file, fixed.as_bytes(), "changed on disk").await;

    let (status, body) = admin(&rig, Method::POST, "/reload", None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin(
        &rig,
        Method::POST,
        "/keys",
        Some(json!({"provider": "gemini", "keys": [ANOTHER]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let path = format!("/keys/{}", id_of(ADDED));
    let (status, body) = admin(&rig, Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        key_ids(&rig, "gemini").await,
        ids(&[BY_HAND, ANOTHER, GEMINI])
    );
    let text = std::fs::read_to_string(&keys_file).unwrap();
    assert!(text.contains(BY_HAND), "the hand edit is kept: {text}");
    assert!(text.contains(ANOTHER), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_keys_file_broken_by_hand_without_a_reload_is_not_overwritten() {
    let dir = temp_dir("broken");
    let keys_file = dir.join("keys.toml");
    let rig = Rig::start(&server(Some(&keys_file))).await;
    let broken = break_by_hand(&rig, &keys_file).await;
    changes_are_refused(&rig, &keys_file, &broken, "cannot read").await;
    rig.bystander().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_keys_file_key_with_a_control_character_is_refused_by_reload_and_at_start() {
    let dir = temp_dir("file-rule");
    let keys_file = dir.join("keys.toml");
    let rig = Rig::start(&server(Some(&keys_file))).await;
    let hostile = "test-key-file-hostile\\u0007-000008";
    std::fs::write(
        &keys_file,
        format!("[providers.gemini]\nkeys = [\"{BY_HAND}\", \"{hostile}\"]\n"),
    )
    .unwrap();
    let (status, body) = admin(&rig, Method::POST, "/reload", None).await;
    let message = assert_problem(status, &body, 409, "change_refused", &[BY_HAND, hostile]);
    assert!(
        message.contains("provider `gemini`, key 2") && message.contains(RULE),
        "{message}"
    );
    assert_eq!(key_ids(&rig, "gemini").await, ids(&[GEMINI]));

    let config = Config::from_toml(&server(Some(&keys_file))).unwrap();
    let settings = ServeSettings {
        config,
        ..ServeSettings::default()
    };
    let refused = RunningGateway::start(&settings, &MapEnv::new([("GEMINI_API_KEYS", GEMINI)]))
        .await
        .err()
        .expect("refused at start");
    let text = format!("{refused:#}");
    assert!(text.contains(RULE) && !text.contains("hostile"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_variable_with_a_control_character_in_a_key_stops_the_start_naming_it() {
    let hostile = "test-key-env-hostile\u{7}-0000009";
    let settings = ServeSettings::default();
    let keys = format!("{GEMINI},{hostile}");
    let refused = RunningGateway::start(&settings, &MapEnv::new([("GEMINI_API_KEYS", &*keys)]))
        .await
        .err()
        .expect("refused at start");
    let text = format!("{refused:#}");
    // Named by a hash only: `#` and the first 8 digits of its id.
    let named = format!("#{}", &id_of(hostile)[..8]);
    assert!(text.contains("GEMINI_API_KEYS"), "{text}");
    assert!(text.contains(&named), "{text}");
    assert!(text.contains(RULE), "{text}");
    assert!(!text.contains("hostile"), "{text}");
}

#[tokio::test]
async fn the_bearer_scheme_opens_access_and_admin_in_any_case() {
    let toml = format!("{}access_tokens = [\"{ACCESS}\"]\n", server(None));
    let rig = Rig::start(&toml).await;
    rig.upstream
        .on_key(ANTHROPIC, [Reply::anthropic_message("hello")]);
    for scheme in ["bearer", "BEARER", "Bearer  "] {
        let served = client()
            .post(rig.url("/v1/messages"))
            .header("authorization", format!("{scheme} {ACCESS}"))
            .json(&message_request("claude-sonnet-4-5", false))
            .send()
            .await
            .unwrap();
        assert_eq!(served.status(), 200, "access with `{scheme}`");
        let keys = client()
            .get(rig.url("/admin/keys"))
            .header("authorization", format!("{scheme} {ADMIN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(keys.status(), 200, "admin with `{scheme}`");
    }
    let wrong = client()
        .get(rig.url("/admin/keys"))
        .header("authorization", format!("Basic {ADMIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401, "another scheme is no bearer");
}

#[tokio::test]
async fn the_answer_when_every_key_is_disabled_says_who_disabled_them() {
    const SECOND: &str = "test-key-gemini-second-0000010";
    let keys = format!("{GEMINI},{SECOND}");
    let env = [("GEMINI_API_KEYS", keys.as_str())];
    let rig = Rig::start_with(&server(None), &env).await;
    let fingerprint = |key: &str| keypool::Fingerprint::of(key, None).to_string();

    // By an operator.
    let path = format!("/keys/{}/disable", id_of(ANTHROPIC));
    assert_eq!(admin(&rig, Method::POST, &path, None).await.0, 200);
    let refused = rig
        .post("/v1/messages", &message_request("claude-sonnet-4-5", false))
        .await;
    let (_, message) = anthropic_error(refused, 503).await;
    assert!(message.contains("disabled by an operator"), "{message}");
    assert!(message.contains(&fingerprint(ANTHROPIC)), "{message}");
    assert!(!message.contains("rejected by the provider"), "{message}");

    // By the provider.
    rig.upstream.on_key(
        OPENAI,
        [Reply::fixture(
            401,
            "fixtures/errors/openai_invalid_key.json",
        )],
    );
    let chat = |rig: &Rig| {
        client()
            .post(rig.url("/v1/chat/completions"))
            .json(&chat_request(false))
            .send()
    };
    assert_eq!(chat(&rig).await.unwrap().status(), 401);
    let (_, message) = openai_error(chat(&rig).await.unwrap(), 503).await;
    assert!(
        message.contains("rejected by the provider as invalid"),
        "{message}"
    );
    assert!(!message.contains("operator"), "{message}");

    // Some each.
    rig.upstream.on_key(
        GEMINI,
        [Reply::fixture(
            400,
            "fixtures/errors/gemini_invalid_key.json",
        )],
    );
    let path = format!("/keys/{}/disable", id_of(SECOND));
    assert_eq!(admin(&rig, Method::POST, &path, None).await.0, 200);
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let generate = rig.url("/v1beta/models/gemini-2.5-flash:generateContent");
    let first = client().post(&generate).json(&body).send().await.unwrap();
    assert_eq!(first.status(), 400);
    let again = client().post(&generate).json(&body).send().await.unwrap();
    let (_, message) = gemini_error(again, 503).await;
    assert!(
        message.contains("1 rejected by the provider as invalid")
            && message.contains("1 disabled by an operator"),
        "{message}"
    );
    assert!(
        message.contains(&fingerprint(GEMINI)) && message.contains(&fingerprint(SECOND)),
        "{message}"
    );
}

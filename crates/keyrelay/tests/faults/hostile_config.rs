//! A shared gateway is no door to its host, and its configuration errors
//! show no key. A gateway with access tokens (or listening beyond
//! loopback) does not reach the local servers (ollama, lmstudio, vllm)
//! nobody configured, and tells the client how to enable them; a
//! single-user one (loopback with no token, or a launcher's) still does. A
//! broken config file is reported by place, never by its text: by `config
//! check`, at start-up, by `/admin/reload` and in the SIGHUP log line.

use std::path::PathBuf;

use reqwest::Method;

use super::served;
use super::*;

const TOKEN: &str = "team-access-token-000001";
const ADMIN: &str = "admin-token-for-tests";
/// In the broken config files: nothing of it may show.
const SECRET: &str = "kr-test-zq7Xw9Lm2Pv4Ns8Rt6Yb";

/// A gateway on loopback with `toml` and `env`.
async fn gateway(toml: &str, env: &[(&str, &str)], single_user: bool) -> RunningGateway {
    let settings = ServeSettings {
        config: Config::from_toml(toml).expect("test config parses"),
        single_user,
        ..ServeSettings::default()
    };
    RunningGateway::start(&settings, &MapEnv::new(env.iter().copied()))
        .await
        .expect("gateway starts")
}

/// Shared: it takes an access token.
fn shared(toml: &str) -> String {
    format!("[server]\naccess_tokens = [\"{TOKEN}\"]\n{toml}")
}

async fn send(
    gateway: &RunningGateway,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = client()
        .request(method, format!("{}{path}", gateway.url()))
        .header("x-api-key", TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("the gateway answers")
}

fn says_how_to_enable(message: &str, name: &str) {
    let variable = format!("{}_BASE_URL", name.to_ascii_uppercase());
    assert!(
        message.contains(&variable) && message.contains(&format!("[providers.{name}]")),
        "{message}"
    );
}

#[tokio::test]
async fn a_shared_gateway_refuses_local_servers_nobody_configured_in_the_clients_shape() {
    let gateway = gateway(&shared(""), &[], false).await;
    let messages = send(
        &gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("ollama@llama3", false)),
    )
    .await;
    let (kind, message) = anthropic_error(messages, 403).await;
    assert_eq!(kind, "permission_error");
    says_how_to_enable(&message, "ollama");

    let chat =
        json!({"model": "lmstudio@qwen3-8b", "messages": [{"role": "user", "content": "hi"}]});
    let chat = send(&gateway, Method::POST, "/v1/chat/completions", Some(chat)).await;
    says_how_to_enable(&openai_error(chat, 403).await.1, "lmstudio");

    let gemini = json!({"contents": [{"parts": [{"text": "hi"}]}]});
    let gemini = send(
        &gateway,
        Method::POST,
        "/v1beta/models/vllm@qwen3:generateContent",
        Some(gemini),
    )
    .await;
    let (status, message) = gemini_error(gemini, 403).await;
    assert_eq!(status, "PERMISSION_DENIED");
    says_how_to_enable(&message, "vllm");

    // Its native API: any method, any path, answered in its own (OpenAI) shape.
    let models = send(&gateway, Method::GET, "/p/vllm/v1/models", None).await;
    says_how_to_enable(&openai_error(models, 403).await.1, "vllm");
    let delete = send(
        &gateway,
        Method::DELETE,
        "/p/ollama/api/delete",
        Some(json!({"model": "llama3"})),
    )
    .await;
    says_how_to_enable(&openai_error(delete, 403).await.1, "ollama");
    gateway.stop().await;
}

#[tokio::test]
async fn a_shared_gateway_serves_the_local_servers_its_operator_named() {
    let local = FakeUpstream::start().await;
    local.fallback([Reply::openai_chat("from the local server")]);
    let base = local.base_url();
    let toml = shared(&format!("[providers.vllm]\nbase_url = \"{base}\"\n"));
    let ollama_base = format!("{base}/v1");
    let gateway = gateway(&toml, &[("OLLAMA_BASE_URL", ollama_base.as_str())], false).await;

    let served = send(
        &gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("ollama@llama3", false)),
    )
    .await;
    assert_eq!(served.status(), 200);
    let message: Value = served.json().await.unwrap();
    assert_eq!(message["content"][0]["text"], "from the local server");
    let models = send(&gateway, Method::GET, "/p/vllm/v1/models", None).await;
    assert_eq!(models.status(), 200);
    // The one nobody named stays off, and reaches nothing.
    let refused = send(
        &gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("lmstudio@qwen3-8b", false)),
    )
    .await;
    says_how_to_enable(&anthropic_error(refused, 403).await.1, "lmstudio");
    let paths: Vec<String> = local.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1/chat/completions", "/v1/models"]);
    gateway.stop().await;
}

/// Routed, not refused: whatever the default address answers (most likely
/// nothing listens there), it is not the "not enabled" refusal.
async fn routes_to_the_default_address(gateway: &RunningGateway) {
    let answer = send(
        gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("ollama@llama3", false)),
    )
    .await;
    let status = answer.status();
    let body = answer.text().await.unwrap();
    assert!(
        status != 403 && !body.contains("not enabled"),
        "{status} {body}"
    );
}

#[tokio::test]
async fn a_single_user_gateway_reaches_local_servers_nobody_configured() {
    let alone = gateway("", &[], false).await;
    assert!(alone.live.gateway().registry.get("ollama").is_some());
    routes_to_the_default_address(&alone).await;
    alone.stop().await;
    // A launcher's gateway has a token for its own client, and is still single-user.
    let launched = gateway(&shared(""), &[], true).await;
    routes_to_the_default_address(&launched).await;
    launched.stop().await;
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyrelay-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_reload_decides_again_which_local_servers_are_reachable() {
    let local = FakeUpstream::start().await;
    local.fallback([Reply::openai_chat("from the local server")]);
    let dir = scratch("reload");
    let path = dir.join("keyrelay.toml");
    std::fs::write(&path, "").unwrap();
    let settings = ServeSettings {
        config: Config::load(Some(&path)).unwrap(),
        config_path: Some(path.clone()),
        ..ServeSettings::default()
    };
    let gateway = RunningGateway::start(&settings, &MapEnv::default())
        .await
        .unwrap();
    assert!(gateway.live.gateway().registry.get("ollama").is_some());

    // An access token makes it shared: local servers go off.
    std::fs::write(&path, shared("")).unwrap();
    gateway.live.reload().await.unwrap();
    let refused = send(
        &gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("ollama@llama3", false)),
    )
    .await;
    says_how_to_enable(&anthropic_error(refused, 403).await.1, "ollama");

    // Named in the file: on again, at the address given.
    let base = local.base_url();
    std::fs::write(
        &path,
        shared(&format!("[providers.ollama]\nbase_url = \"{base}/v1\"\n")),
    )
    .unwrap();
    gateway.live.reload().await.unwrap();
    let served = send(
        &gateway,
        Method::POST,
        "/v1/messages",
        Some(message_request("ollama@llama3", false)),
    )
    .await;
    assert_eq!(served.status(), 200);
    assert_eq!(local.total_hits(), 1);
    gateway.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Config files with a mistake on a line that holds a key or a token.
fn broken_configs() -> [String; 3] {
    [
        // A key list left open: TOML quotes the line in its error.
        format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n[providers.openai]\nkeys = [\"{SECRET}\" \n"),
        // A token list written as one string: serde quotes the string.
        format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\naccess_tokens = \"{SECRET}\"\n"),
        // A state store with a password that is no store.
        format!("[server]\nadmin_tokens = [\"{ADMIN}\"]\n[state]\nstore = \"rediss://:{SECRET}@cache:6379\"\n"),
    ]
}

/// Every run of 8 characters of the secret: nothing of it may show.
fn assert_no_secret(what: &str, text: &str) {
    let chars: Vec<char> = SECRET.chars().collect();
    for window in chars.windows(8) {
        let fragment: String = window.iter().collect();
        assert!(
            !text.contains(&fragment),
            "{what} shows `{fragment}`:\n{text}"
        );
    }
}

#[tokio::test]
async fn config_check_and_serve_report_a_broken_config_file_without_its_keys() {
    let dir = scratch("check");
    let path = dir.join("broken.toml");
    for (n, text) in broken_configs().iter().enumerate() {
        std::fs::write(&path, text).unwrap();
        for args in [
            &["config", "check"][..],
            &["serve", "--listen", "127.0.0.1:0", "--state", "memory"],
        ] {
            let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyrelay"))
                .args(args)
                .arg("--config")
                .arg(&path)
                .env_clear()
                .kill_on_drop(true)
                .output();
            let output = tokio::time::timeout(Duration::from_secs(20), run)
                .await
                .expect("exits")
                .unwrap();
            assert!(!output.status.success(), "{args:?} accepted config {n}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_no_secret(&format!("{args:?} with config {n}"), &stderr);
            assert!(stderr.contains("broken.toml"), "{stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[tokio::test]
async fn a_reload_of_a_broken_config_file_shows_no_key_in_the_answer_or_the_log() {
    let dir = scratch("sighup");
    let path = dir.join("keyrelay.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nadmin_tokens = [\"{ADMIN}\"]\n[providers.openai]\nkeys = [\"{SECRET}\"]\n"
        ),
    )
    .unwrap();
    let served = served::serve(
        &[],
        &["--config", path.to_str().unwrap(), "--state", "memory"],
    )
    .await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(served.child.id().unwrap()).unwrap());
    for (n, text) in broken_configs().iter().enumerate() {
        std::fs::write(&path, text).unwrap();
        let answer = client()
            .post(format!("{}/admin/reload", served.url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 409, "config {n}");
        let body = answer.text().await.unwrap();
        assert_no_secret(&format!("/admin/reload with config {n}"), &body);
        assert!(body.contains("keyrelay.toml"), "{body}");

        let before = served.log_lines(&["reload refused"]).len();
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
        let line = testkit::eventually(
            "the refused reload is logged",
            Duration::from_secs(10),
            || served.log_lines(&["reload refused"]).get(before).cloned(),
        )
        .await;
        assert!(line.contains("keyrelay.toml"), "{line}");
    }
    assert_no_secret("the log", &served.log.lock().unwrap().join("\n"));
    served.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

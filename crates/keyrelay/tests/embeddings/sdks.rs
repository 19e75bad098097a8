//! The real openai (`embeddings.create`) and google-genai (`embed_content`)
//! Python SDKs (pinned in `scripts/e2e-setup`) through keyrelay, against
//! OpenAI, Gemini and Ollama fakes, natively and translated, the first key
//! rate-limited each time: the vector counts and dimensions match the inputs.

use std::path::PathBuf;
use std::time::Duration;

use super::*;

const ACCESS_TOKEN: &str = "team-token-for-the-embedding-sdks";

/// The e2e venv's Python, with both SDKs installed by `scripts/e2e-setup`.
fn sdk_python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/e2e/venv/bin/python");
    assert!(
        python.exists(),
        "the Python SDKs are not installed at {}: run `scripts/e2e-setup` (scripts/test runs it for you)",
        python.display()
    );
    python
}

/// Runs `script` for `model` against a gateway whose `provider` is a fake
/// with its first key rate-limited; checks the vectors it reports.
async fn sdk_against(script: &str, provider: Provider, model: &str) {
    let upstream = FakeUpstream::start().await;
    let config = format!("[server]\naccess_tokens = [\"{ACCESS_TOKEN}\"]\n");
    let gateway = limited_first(&upstream, provider, &config).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/embeddings")
        .join(script);
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(sdk_python())
            .arg(&script)
            .args([gateway.url().as_str(), ACCESS_TOKEN, model])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the SDK check finishes within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed for {model} (a missing module means: run scripts/e2e-setup):\n{stdout}\n{stderr}",
        script.display()
    );
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    let floats = |value: &Value| -> Vec<f32> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let many: Vec<Vec<f32>> = report["many"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    let expected: Vec<Vec<f32>> = ["alpha", "beta", "gamma"]
        .iter()
        .enumerate()
        .map(|(n, text)| vector(n, text, 5))
        .collect();
    assert_eq!(many, expected, "{model}: three vectors of five, in order");
    assert_eq!(
        floats(&report["one"]),
        vector(0, "the quick brown fox", 8),
        "{model}"
    );
    assert_eq!(
        upstream.hits(LIMITED),
        1,
        "{model}: the rate-limited key was tried once, then left to cool"
    );
    assert!(
        upstream.hits(GOOD) >= 2,
        "{model}: the good key served the rest"
    );
    for request in upstream.requests_with_key(GOOD) {
        assert_eq!(
            request.header("x-goog-api-key"),
            if provider.keys == "GEMINI_API_KEYS" {
                Some(GOOD)
            } else {
                None
            }
        );
        assert!(
            !String::from_utf8_lossy(&request.body).contains(ACCESS_TOKEN),
            "the access token stays here"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_embeds_natively_on_openai() {
    sdk_against(
        "openai_sdk_check.py",
        OPENAI,
        "openai@text-embedding-3-small",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_embeds_through_gemini() {
    sdk_against("openai_sdk_check.py", GEMINI, "gemini@gemini-embedding-001").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_embeds_through_ollama() {
    sdk_against("openai_sdk_check.py", OLLAMA, "ollama-cloud@embeddinggemma").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_embeds_natively_on_gemini() {
    sdk_against("genai_sdk_check.py", GEMINI, "gemini@gemini-embedding-001").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_embeds_through_openai() {
    sdk_against(
        "genai_sdk_check.py",
        OPENAI,
        "openai@text-embedding-3-small",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_google_genai_sdk_embeds_through_ollama() {
    sdk_against("genai_sdk_check.py", OLLAMA, "ollama-cloud@embeddinggemma").await;
}

//! A headless Chromium driven over WebDriver: Debian's `chromium` and
//! `chromium-driver`, chromedriver on a random loopback port, a fresh
//! profile each time, nothing that reaches beyond this machine.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a page gets to show what a test waits for.
pub const PAGE_WAIT: Duration = Duration::from_secs(10);

const INSTALL: &str = "install Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`; scripts/test does it when run as root)";

/// A browser session, its chromedriver and its profile; all of it ends with
/// [`Browser::close`], or when dropped.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    /// Held for its `Drop`, after the browser has ended.
    _profile: Profile,
}

/// A browser profile directory, removed when dropped (also when the
/// browser never started).
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn program(env_var: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{} is missing: {INSTALL} (or set {env_var})",
        names.join(" / ")
    );
}

/// Starts chromedriver with `--port=0` and reads the port it chose.
async fn start_driver() -> (Child, u16) {
    let chromedriver = program("KEYRELAY_CHROMEDRIVER", &["chromedriver"]);
    let mut driver = Command::new(&chromedriver)
        .args(["--port=0", "--allowed-ips=127.0.0.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group, so that the browsers it starts end with it.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", chromedriver.display()));
    let stdout = driver.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(port) = line
                .split("started successfully on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').trim().parse().ok())
            {
                return port;
            }
        }
        panic!("chromedriver ended without saying its port");
    })
    .await
    .expect("chromedriver says its port within 20 s");
    // Whatever it says later must not fill the pipe and stall it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (driver, port)
}

impl Browser {
    /// A headless Chromium with a `width`×`height` window.
    pub async fn launch(width: u32, height: u32) -> Browser {
        Browser::launch_with(width, height, &[]).await
    }

    /// [`Browser::launch`] with extra Chromium switches.
    pub async fn launch_with(width: u32, height: u32, switches: &[&str]) -> Browser {
        static PROFILES: AtomicUsize = AtomicUsize::new(0);
        let chromium = program("KEYRELAY_CHROMIUM", &["chromium", "chromium-browser"]);
        let profile = Profile(std::env::temp_dir().join(format!(
            "keyrelay-ui-profile-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::Relaxed)
        )));
        let _ = std::fs::remove_dir_all(&profile.0);
        std::fs::create_dir_all(&profile.0).unwrap();
        let (driver, port) = start_driver().await;
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--no-proxy-server",
            "--hide-scrollbars",
            "--lang=en-US",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.0.display()));
        args.push(format!("--window-size={width},{height}"));
        args.extend(switches.iter().map(|s| s.to_string()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("headless Chromium did not start: {e}; {INSTALL}"));
        let browser = Browser {
            client: Some(client),
            driver,
            _profile: profile,
        };
        browser.resize(width, height).await;
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().unwrap()
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client().set_window_size(width, height).await.unwrap();
    }

    pub async fn goto(&self, url: &str) {
        self.client().goto(url).await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.client().current_url().await.unwrap().to_string()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client().execute(script, args).await.unwrap()
    }

    /// Runs an async function body in the page and returns what it resolves to.
    pub async fn js_async(&self, body: &str) -> Value {
        let script = format!(
            "const done = arguments[arguments.length - 1]; (async () => {{ {body} }})().then(done, (e) => done('error: ' + e));"
        );
        self.client().execute_async(&script, vec![]).await.unwrap()
    }

    /// The text of every element `css` matches, as a person sees it.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let found = self
            .js(
                "return [...document.querySelectorAll(arguments[0])].map((e) => e.innerText);",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(found).unwrap()
    }

    /// The text of the first element `css` matches ("" when none does).
    pub async fn text(&self, css: &str) -> String {
        self.texts(css).await.into_iter().next().unwrap_or_default()
    }

    /// Waits until `check` passes on the texts `css` matches.
    pub async fn wait_for_texts<T>(
        &self,
        what: &str,
        css: &str,
        check: impl Fn(&[String]) -> Option<T>,
    ) -> T {
        testkit::eventually_async(what, PAGE_WAIT, || async {
            let texts = self.texts(css).await;
            check(&texts).ok_or(texts)
        })
        .await
    }

    /// Waits until an element matching `css` is shown.
    pub async fn wait_shown(&self, css: &str) {
        let what = format!("{css} to be shown");
        testkit::eventually_async(&what, PAGE_WAIT, || async {
            let shown = self
                .js(
                    "const e = document.querySelector(arguments[0]); return !!e && e.checkVisibility();",
                    vec![json!(css)],
                )
                .await;
            shown == json!(true)
        })
        .await
    }

    /// Clicks the element `css` matches, as a person would (the driver
    /// checks it is shown and reachable).
    pub async fn click(&self, css: &str) {
        self.client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to click: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    }

    /// Types `text` into the field `css` matches, key by key.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self
            .client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css} to type into: {e}"));
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Types `text` (WebDriver key codes allowed) into whatever has focus.
    pub async fn keys(&self, text: &str) {
        self.client()
            .active_element()
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }

    /// The page as the browser holds it now (the DOM, serialised).
    pub async fn source(&self) -> String {
        self.client().source().await.unwrap()
    }

    /// A PNG of the window, written to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self.client().screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// Ends the session (and so the browser), then chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: chromedriver and any browser it left behind.
        if let Some(pid) = self.driver.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.driver.start_kill();
    }
}

//! `keyrelay serve` as a child process on a free loopback port, shared by the
//! test crates that run the binary.

// Each test crate uses its own part of this module.
#![allow(dead_code)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A `keyrelay serve` process on a free loopback port, killed when dropped.
pub struct Served {
    pub child: Child,
    pub url: String,
    /// Every stderr line so far (the log).
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Served {
    /// Log lines containing every one of `words`.
    pub fn log_lines(&self, words: &[&str]) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|line| words.iter().all(|w| line.contains(w)))
            .cloned()
            .collect()
    }

    pub async fn stop(mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

/// Starts the binary with exactly `env` (plus PATH) and `args` after `serve`.
pub async fn serve(env: &[(&str, String)], args: &[&str]) -> Served {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyrelay"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    start(command).await
}

/// Starts `command`, a `keyrelay serve` however it is reached (an installed
/// package, a chroot), and waits until it listens.
pub async fn start(mut command: Command) -> Served {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("keyrelay binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let address = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.lock().unwrap().push(line.clone());
            if let Some((_, rest)) = line.split_once("address=") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
            // `--log-format json`: {"address":"127.0.0.1:PORT",…}
            if let Some((_, rest)) = line.split_once("\"address\":\"") {
                return rest.split('"').next().unwrap().to_owned();
            }
        }
        panic!(
            "keyrelay exited before listening: {:?}",
            log.lock().unwrap()
        );
    })
    .await
    .expect("keyrelay listens within 20s");
    let sink = log.clone();
    // Keep draining stderr so the child never blocks on a full pipe.
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    // A gateway listening on every address is asked on loopback.
    let address = address.replace("0.0.0.0:", "127.0.0.1:");
    Served {
        child,
        url: format!("http://{address}"),
        log,
    }
}

//! A real `redis-server` for tests: on a free 127.0.0.1 port, in a temporary
//! directory, without persistence, stopped when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::eventually::eventually_async;

const INSTALL_HINT: &str = "redis-server is not installed: install it with \
    `apt-get install redis-server` (Debian/Ubuntu) or `brew install redis`; \
    scripts/test installs it when run as root";

/// A `redis-server` child process. Tests that need Redis fail (never skip)
/// when it is not installed, with a message saying how to install it.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    ///
    /// Panics when `redis-server` is missing or does not come up.
    pub async fn start() -> RedisServer {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("testkit-redis-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("RedisServer: cannot create its directory");
        // A free port can be taken between probing and binding: try a few.
        for _ in 0..5 {
            let port = free_port();
            let mut server = RedisServer {
                port,
                dir: dir.clone(),
                child: None,
            };
            if server.launch().await {
                return server;
            }
        }
        panic!("RedisServer: redis-server did not start on any free port");
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL, as a crash would) and waits for it.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Starts the server again on the same port, empty (no persistence), as a
    /// restarted cache would be. Panics if it does not come up.
    pub async fn restart(&mut self) {
        self.kill().await;
        assert!(
            self.launch().await,
            "RedisServer: redis-server did not restart on port {}",
            self.port
        );
    }

    /// Spawns the server and waits until it answers as itself; false if it
    /// exited. Panics (the child is killed as it drops) if it neither answers
    /// nor exits in 10 s.
    async fn launch(&mut self) -> bool {
        let spawned = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--loglevel", "warning", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
            Err(err) => panic!("RedisServer: cannot run redis-server: {err}"),
        };
        let port = self.port;
        let pid = child.id();
        let what = format!("redis-server to answer on port {port}");
        let up = eventually_async(&what, Duration::from_secs(10), || {
            // It exits at once when the port was taken after all; until it
            // has, the server answering may be the one that took it (another
            // test's), so only this child's own answer counts.
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            async move {
                if exited {
                    Some(false)
                } else {
                    (pid.is_some() && answering_pid(port).await == pid).then_some(true)
                }
            }
        })
        .await;
        if up {
            self.child = Some(child);
        }
        up
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The process id of the Redis server answering on the port (`INFO server`),
/// if one answers.
async fn answering_pid(port: u16) -> Option<u32> {
    let ask = async {
        let mut stream = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.ok()?);
        stream.write_all(b"INFO server\r\n").await.ok()?;
        // A bulk string: `$<length>\r\n<text>\r\n`.
        let mut header = String::new();
        stream.read_line(&mut header).await.ok()?;
        let length: usize = header.strip_prefix('$')?.trim_end().parse().ok()?;
        let mut text = vec![0u8; length];
        stream.read_exact(&mut text).await.ok()?;
        String::from_utf8_lossy(&text)
            .lines()
            .find_map(|line| line.strip_prefix("process_id:")?.trim().parse().ok())
    };
    tokio::time::timeout(Duration::from_secs(1), ask)
        .await
        .ok()
        .flatten()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("RedisServer: cannot bind 127.0.0.1:0")
}

#[cfg(test)]
mod tests;

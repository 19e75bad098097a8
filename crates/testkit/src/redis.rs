//! A real `redis-server` for tests: on a free 127.0.0.1 port, in a temporary
//! directory, without persistence, stopped when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    /// Starts a server on a free port and waits until it answers `PING`.
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

    /// Spawns the server and waits for `PING`; false if it exited. Panics
    /// (the child is killed as it drops) if it neither answers nor exits in 10 s.
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
        let what = format!("redis-server to answer PING on port {port}");
        let up = eventually_async(&what, Duration::from_secs(10), || {
            // It exits at once when the port was taken after all.
            let exited = matches!(child.try_wait(), Ok(Some(_)));
            async move {
                if exited {
                    Some(false)
                } else {
                    ping(port).await.then_some(true)
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

/// Whether a Redis server answers `PING` on the port.
async fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if stream.write_all(b"PING\r\n").await.is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    matches!(
        tokio::time::timeout(Duration::from_secs(1), stream.read_exact(&mut reply)).await,
        Ok(Ok(_)) if &reply == b"+PONG\r\n"
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("RedisServer: cannot bind 127.0.0.1:0")
}

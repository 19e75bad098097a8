//! The processes a measurement runs (the fake, keyrelay, nginx) and what
//! `/proc` says about them.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/PID/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// A child process killed when dropped.
pub struct Running {
    child: Child,
    /// Run before the kill, to stop the process's own children (nginx's workers).
    stop: Option<Command>,
}

impl Running {
    pub fn spawn(name: &str, command: &mut Command) -> anyhow::Result<Running> {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting {name}: {e}"))?;
        Ok(Running { child, stop: None })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = &mut self.stop {
            let _ = stop.stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// Waits until `addr` accepts connections.
pub fn wait_listening(name: &str, addr: SocketAddr) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    anyhow::bail!("{name} did not listen on {addr} within 20 s")
}

/// CPU seconds (user + system) used so far by `pid` and its children
/// processes (nginx's workers).
pub fn cpu_seconds(pid: u32) -> f64 {
    let mut ticks = own_ticks(pid);
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(child) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if parent_of(child) == Some(pid) {
                ticks += own_ticks(child);
            }
        }
    }
    ticks as f64 / TICKS_PER_SECOND
}

/// The fields of `/proc/PID/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    Some(after_name.split_whitespace().map(str::to_owned).collect())
}

fn own_ticks(pid: u32) -> u64 {
    // After the name: state(0) ppid(1) … utime(11) stime(12).
    stat_fields(pid)
        .map(|f| {
            let at = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            at(11) + at(12)
        })
        .unwrap_or(0)
}

fn parent_of(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok()
}

/// `VmRSS` (resident now) or `VmHWM` (peak) of `pid`, in KiB.
pub fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `nginx` on PATH or in /usr/sbin, if installed.
pub fn find_nginx() -> Option<std::path::PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    candidates
        .into_iter()
        .chain([Path::new("/usr/sbin").to_path_buf()])
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

/// Starts nginx with one worker in front of `upstream`, as a reverse proxy
/// with upstream keep-alive, listening on `listen`; its files go in `dir`.
pub fn start_nginx(
    nginx: &Path,
    dir: &Path,
    listen: SocketAddr,
    upstream: SocketAddr,
) -> anyhow::Result<Running> {
    std::fs::create_dir_all(dir.join("logs"))?;
    let conf = format!(
        "worker_processes 1;\n\
         error_log stderr error;\n\
         pid {pid};\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
           access_log off;\n\
           keepalive_requests 10000000;\n\
           client_body_temp_path {dir}/body;\n\
           proxy_temp_path {dir}/proxy;\n\
           upstream fake {{ server {upstream}; keepalive 64; keepalive_requests 10000000; }}\n\
           server {{\n\
             listen {listen};\n\
             client_max_body_size 64m;\n\
             client_body_buffer_size 64m;\n\
             location / {{\n\
               proxy_pass http://fake;\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Connection \"\";\n\
             }}\n\
           }}\n\
         }}\n",
        pid = dir.join("nginx.pid").display(),
        dir = dir.display(),
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf)?;
    let mut command = Command::new(nginx);
    command
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .args(["-g", "daemon off;"]);
    let mut running = Running::spawn("nginx", &mut command)?;
    let mut stop = Command::new(nginx);
    stop.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .args(["-s", "stop"]);
    running.stop = Some(stop);
    wait_listening("nginx", listen)?;
    Ok(running)
}

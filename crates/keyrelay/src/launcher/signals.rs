//! Waiting for the launched client while keyrelay receives signals, and the
//! exit code keyrelay returns for it.

/// Waits for the client to exit. Ctrl-C reaches the client from the terminal
/// directly (same process group), so keyrelay only keeps it from ending
/// keyrelay itself; SIGTERM and SIGHUP are passed on.
#[cfg(unix)]
pub async fn wait_forwarding(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;
    use tokio::signal::unix::{signal, SignalKind};

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let forward = |signal: Signal| {
        if let Some(pid) = pid {
            let _ = nix::sys::signal::kill(pid, signal);
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => return status,
            _ = interrupt.recv() => {}
            _ = terminate.recv() => forward(Signal::SIGTERM),
            _ = hangup.recv() => forward(Signal::SIGHUP),
        }
    }
}

/// Waits for the client to exit. Windows sends Ctrl-C and Ctrl-Break to
/// every process of the console, the client included, so keyrelay only
/// keeps them from ending keyrelay itself.
#[cfg(not(unix))]
pub async fn wait_forwarding(
    child: &mut tokio::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    let mut interrupt = tokio::signal::windows::ctrl_c()?;
    let mut breaks = tokio::signal::windows::ctrl_break()?;
    loop {
        tokio::select! {
            status = child.wait() => return status,
            _ = interrupt.recv() => {}
            _ = breaks.recv() => {}
        }
    }
}

/// The client's exit code, or 128 + the signal that ended it, as a shell reports it.
#[cfg(unix)]
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// The client's exit code (Windows processes always have one).
#[cfg(not(unix))]
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

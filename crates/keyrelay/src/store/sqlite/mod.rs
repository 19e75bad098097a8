//! Key state in a SQLite file, shared by the keyrelay processes of one machine
//! (WAL mode, `busy_timeout`). Schema: see `schema.rs`.

mod schema;
mod team;
mod worker;

use std::path::{Path, PathBuf};
use std::time::Duration;

use keypool::{Clock, KeyRecord};
use tokio::sync::{mpsc, oneshot};

use rusqlite::Connection;
pub use schema::SCHEMA_VERSION;
use worker::{Command, Job};

use super::backend::{Backend, BackendFuture, KeyDelta};
use super::error::{BackendError, OpenError};

/// Commands waiting for the SQLite thread. Only the write-behind task and the
/// pools' once-a-second refreshes send, so this is never close to full.
const QUEUE: usize = 64;

/// A SQLite state store. Every call runs on one dedicated thread that owns the
/// connection; the file opens lazily (creating its directory) and reopens
/// after failures, so a locked or corrupt file is an error per call, not a crash.
/// The gateway reaches it through [`super::ResilientStore`].
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    commands: mpsc::Sender<Command>,
    /// Wall time for the thread's expiry checks, read here on the async side
    /// and sent with each command (see [`Command`]).
    clock: Clock,
}

impl SqliteStore {
    /// Starts the store's thread; does not touch the file yet. `busy_timeout`
    /// is how long a write waits for another process's lock before failing.
    pub fn new(path: impl Into<PathBuf>, busy_timeout: Duration) -> Result<Self, OpenError> {
        let path = path.into();
        let (commands, receiver) = mpsc::channel(QUEUE);
        let thread_path = path.clone();
        std::thread::Builder::new()
            .name("keyrelay-sqlite".into())
            .spawn(move || worker::run(thread_path, busy_timeout, receiver))
            .map_err(OpenError::Thread)?;
        Ok(SqliteStore {
            path,
            commands,
            clock: Clock::system(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn call<T>(
        &self,
        command: impl FnOnce(u64, worker::Reply<T>) -> Command,
    ) -> Result<T, BackendError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(self.clock.now_ms(), reply))
            .await
            .map_err(|_| BackendError::WorkerGone)?;
        answer.await.map_err(|_| BackendError::WorkerGone)?
    }

    /// Runs `work` on the SQLite thread with the connection and the wall
    /// time (Unix ms) read here.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, u64) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let (reply, answer) = oneshot::channel();
        let now_ms = self.clock.now_ms();
        let job: Job = Box::new(move |slot, path, busy_timeout| {
            let result = worker::with_conn(slot, path, busy_timeout, |c| work(c, now_ms));
            let _ = reply.send(result);
        });
        self.commands
            .send(Command::Run(job))
            .await
            .map_err(|_| BackendError::WorkerGone)?;
        answer.await.map_err(|_| BackendError::WorkerGone)?
    }
}

impl Backend for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite {}", self.path.display())
    }

    fn load<'a>(&'a self, pool: &'a str) -> BackendFuture<'a, Vec<KeyRecord>> {
        Box::pin(self.call(|now_ms, reply| Command::Load {
            pool: pool.to_owned(),
            now_ms,
            reply,
        }))
    }

    fn apply<'a>(&'a self, deltas: &'a [KeyDelta]) -> BackendFuture<'a, ()> {
        Box::pin(self.call(|now_ms, reply| Command::Apply {
            deltas: deltas.to_vec(),
            now_ms,
            reply,
        }))
    }
}

#[cfg(test)]
mod tests;

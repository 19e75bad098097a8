//! What can go wrong with a persistent store.

use keypool::StoreError;

/// A failed call to a persistent backend.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create the state directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("the store was written by a newer keyrelay (schema version {found}; this one knows up to {known})")]
    NewerSchema { found: i64, known: i64 },
    #[error("a stored record is malformed: {0}")]
    Malformed(String),
    #[error("the SQLite worker thread is gone")]
    WorkerGone,
}

impl BackendError {
    /// True when the failed call certainly changed nothing, so the counters it
    /// carried may be sent again without counting twice. A dropped connection
    /// or a timeout may have happened after the write: unknown.
    pub fn changed_nothing(&self) -> bool {
        match self {
            // A failed SQLite call rolls its transaction back.
            BackendError::Sqlite(_)
            | BackendError::Directory { .. }
            | BackendError::NewerSchema { .. }
            | BackendError::Malformed(_) => true,
            BackendError::Redis(err) => err.is_connection_refusal(),
            BackendError::WorkerGone => false,
        }
    }

    /// Contention with another process (SQLite busy or locked): the
    /// connection itself is fine.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            BackendError::Sqlite(err) if matches!(
                err.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
        )
    }
}

impl From<BackendError> for StoreError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::Malformed(_) | BackendError::NewerSchema { .. } => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Unavailable(err.to_string()),
        }
    }
}

/// A store that cannot even be set up: a bad Redis URL, or no runtime or
/// thread for its worker. Files and servers that fail later never end here.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("invalid Redis URL: {0}")]
    RedisUrl(redis::RedisError),
    #[error("cannot start the SQLite worker thread: {0}")]
    Thread(std::io::Error),
    #[error("the state store's write-behind task needs a tokio runtime")]
    NoRuntime,
}

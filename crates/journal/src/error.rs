//! Errors of the journal writer and reader.

use crate::keys::KeyError;
use std::path::PathBuf;

/// Why a journal operation failed. Existing records are never changed by a
/// failed operation.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file system operation failed (including a full disk).
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The directory exists but is not a journal.
    #[error("{path} is not an exam journal: {reason}")]
    NotAJournal {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Another writer holds the journal.
    #[error("{0} is in use by another writer")]
    Locked(PathBuf),
    /// Stored records are damaged; the writer refuses to append behind them.
    #[error("{file} at offset {offset}: {reason}; run `kioskctl journal verify` for a full report")]
    Damaged {
        /// The segment file.
        file: PathBuf,
        /// Byte offset of the damaged record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The event cannot be recorded as given.
    #[error("invalid event: {0}")]
    InvalidEvent(String),
    /// An acknowledgement does not match the journal.
    #[error("acknowledgement refused: {0}")]
    BadAcknowledgement(String),
    /// An earlier write failed half-way; the writer must be reopened.
    #[error("an earlier write failed part-way; reopen the journal to recover")]
    Poisoned,
    /// The closing checkpoint is written ([`crate::Journal::seal`]); nothing more is appended.
    #[error("the journal is closed: its closing checkpoint is written, nothing more is appended")]
    Closed,
    /// A key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
}

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.into();
    move |source| JournalError::Io { path, source }
}

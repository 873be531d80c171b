//! The sync cursor: how far the hub has acknowledged the journal.
//!
//! Nothing before the cursor may be deleted until the hub has it; nothing is
//! deleted by this crate at all today. The cursor is replaced atomically
//! (write to a temporary file, fsync, rename, fsync the directory).

use crate::error::{io, JournalError};
use crate::segment::CURSOR_FILE;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The last record the hub has acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncCursor {
    /// Highest sequence number acknowledged (all earlier ones are too).
    pub acked_seq: u64,
    /// Record hash of that record, hex; guards against a cursor from another journal.
    pub acked_hash: String,
    /// The hub's signed journal receipt for it, as the hub sent it (JSON),
    /// when one was kept: the hub's proof that it holds the journal up to
    /// and including `acked_seq` with exactly this head. With the hub's key,
    /// anyone can then check that this prefix was not rewritten later, even
    /// by someone holding the device key (`kioskctl journal verify --hub-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_receipt: Option<serde_json::Value>,
}

impl SyncCursor {
    /// Loads the cursor of the journal at `dir`, if one was stored.
    pub fn load(dir: &Path) -> Result<Option<Self>, JournalError> {
        let path = dir.join(CURSOR_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| JournalError::Damaged {
                file: path,
                offset: e.column() as u64,
                reason: format!("sync cursor is not valid: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(path)(e)),
        }
    }

    /// Stores the cursor atomically.
    pub fn store(&self, dir: &Path) -> Result<(), JournalError> {
        let path = dir.join(CURSOR_FILE);
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| JournalError::InvalidEvent(e.to_string()))?;
        exam_secure::FileWrite::PUBLIC.write(&path, &bytes).map_err(io(&path))
    }
}

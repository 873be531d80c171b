//! # exam-journal
//!
//! The signed, hash-chained, append-only integrity journal of exam-kiosk.
//!
//! * Every record carries its sequence number, wall-clock and monotonic time,
//!   session id, epoch, kind and JSON payload, the hash of the record before
//!   it, its own SHA-256 hash and an Ed25519 signature.
//! * Records are signed by short-lived **epoch keys**, each certified in the
//!   journal by the long-lived **device key** (kept in the OS keyring).
//! * **Checkpoints** are signed RFC 9162 Merkle tree heads; exported to the
//!   hub they reveal later truncation or rewriting.
//! * Appends are durable (`fdatasync`) before they are acknowledged; a torn
//!   final record after a crash (an incomplete final frame, nothing else) is
//!   set aside and recorded, never dropped. Complete records are never set
//!   aside: a damaged length, a bad signature or a journal shorter than what
//!   the hub acknowledged makes the writer refuse to open.
//!
//! `docs/journal-format.md` specifies the bytes exactly.
//!
//! ```no_run
//! use exam_journal::{Event, Journal, JournalConfig, KeyStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store: KeyStore = "file:/var/lib/exam-kiosk/device.key".parse()?;
//! let mut journal = Journal::open("/var/lib/exam-kiosk/journal".as_ref(), store.load()?, JournalConfig::default())?;
//! let receipt = journal.append(&Event::new("session.locked", &serde_json::json!({"reason": "process"}))?)?;
//! println!("recorded as #{}", receipt.seq);
//! # Ok(()) }
//! ```

mod config;
mod cursor;
mod error;
pub mod format;
mod keys;
pub mod merkle;
pub mod records;
pub mod segment;
mod stream;
mod verify;
mod writer;

pub use config::*;
pub use cursor::SyncCursor;
pub use error::JournalError;
pub use keys::{KeyError, KeyStore, PublicKey, SignatureBatch, SigningKey, DEFAULT_KEYRING_ENTRY, KEYRING_SERVICE};
pub use verify::{
    latest_checkpoint, quarantined_files, verify_journal, ExportedCheckpoint, QuarantinedFile, VerifiedCheckpoint,
    VerifyError, VerifyFailure, VerifyOptions, VerifyReport, CHECKPOINT_FORMAT, MAX_QUARANTINE_FILE,
};
pub use stream::{ChainState, ChainVerifier, VerifiedRecord};
pub use writer::{Event, Journal, Receipt, SUMMARY_PREFIX_CHARS};

/// The frames of the records numbered `from` and later in `segments` (as
/// [`Journal::segments_from`] lists them), in order, at most `max`; hashes
/// are checked, signatures are not. Reads only those files. A record being
/// written while this reads (a torn end of the last segment) ends the read
/// there: it comes with the next one. Damage anywhere else, or of another
/// kind (a wrong hash, a bad length before complete records), is an error.
pub fn read_frames_from(segments: &[std::path::PathBuf], from: u64, max: usize) -> Result<Vec<Vec<u8>>, JournalError> {
    let read = read_frames_until_damage(segments, from, max)?;
    match read.damage {
        Some(damage) => Err(damage),
        None => Ok(read.frames),
    }
}

/// What [`read_frames_until_damage`] read: the frames before any damage,
/// and the damage that ended the read.
#[derive(Debug)]
pub struct FramesRead {
    /// The complete, hash-checked frames from the requested record on, up to
    /// the damage (or `max`).
    pub frames: Vec<Vec<u8>>,
    /// The damage that stopped the read ([`JournalError::Damaged`]), if any:
    /// the records from there on cannot be read, so cannot be sent.
    pub damage: Option<JournalError>,
}

/// As [`read_frames_from`], but damage does not discard what was read
/// before it: the records before the damaged one are evidence too, and are
/// still sent (the sync's use). An unreadable file is still an error.
pub fn read_frames_until_damage(segments: &[std::path::PathBuf], from: u64, max: usize) -> Result<FramesRead, JournalError> {
    let mut frames = Vec::new();
    for (position, path) in segments.iter().enumerate() {
        if frames.len() == max {
            break;
        }
        let scan = segment::scan_segment(path)?;
        frames.extend(scan.records.into_iter().filter(|r| r.body.seq >= from).take(max - frames.len()).map(|r| r.frame));
        if frames.len() == max {
            // Damage further on is found by the next read, which starts there.
            break;
        }
        if let Some(stop) = scan.stop {
            if stop.torn && position + 1 == segments.len() {
                break;
            }
            let damage = JournalError::Damaged { file: path.clone(), offset: stop.offset, reason: stop.reason };
            return Ok(FramesRead { frames, damage: Some(damage) });
        }
    }
    Ok(FramesRead { frames, damage: None })
}

/// Reads every record of the journal at `dir` in order, checking hashes but
/// not signatures (use [`verify_journal`] for that). Stops with an error at
/// the first record that cannot be read.
pub fn read_records(dir: &std::path::Path) -> Result<Vec<(std::path::PathBuf, segment::StoredRecord)>, JournalError> {
    let mut out = Vec::new();
    for seg in segment::list_segments(dir)? {
        let scan = segment::scan_segment(&seg.path)?;
        let stop = scan.stop.clone();
        out.extend(scan.records.into_iter().map(|r| (seg.path.clone(), r)));
        if let Some(stop) = stop {
            return Err(JournalError::Damaged { file: seg.path, offset: stop.offset, reason: stop.reason });
        }
    }
    Ok(out)
}

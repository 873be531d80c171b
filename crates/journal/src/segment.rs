//! Segment files: naming, listing, and reading the frames they hold.

use crate::error::{io, JournalError};
use crate::format::{self, DecodeError, RawFrame, RecordBody, SEGMENT_HEADER_LEN};
use std::path::{Path, PathBuf};

/// Name of the sync cursor file inside a journal directory.
pub const CURSOR_FILE: &str = "sync-cursor.json";
/// Name of the writer's lock file inside a journal directory.
pub const LOCK_FILE: &str = "LOCK";
/// Directory where torn tails are set aside.
pub const QUARANTINE_DIR: &str = "quarantine";

/// File name of segment `index` (from 1): `seg-00000001.journal`.
pub fn segment_name(index: u64) -> String {
    format!("seg-{index:08}.journal")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".journal")?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// One segment file of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Index from its file name.
    pub index: u64,
    /// Full path.
    pub path: PathBuf,
}

/// Lists the segments of the journal at `dir`, in order.
///
/// Fails when `dir` is missing, is not a journal (holds files the journal
/// does not write), or when segment numbers have a gap.
pub fn list_segments(dir: &Path) -> Result<Vec<Segment>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(index) = parse_segment_name(&name) {
            segments.push(Segment { index, path: entry.path() });
        } else if !(name == CURSOR_FILE
            || name == LOCK_FILE
            || name == QUARANTINE_DIR
            || name.ends_with(".tmp")
            || name.starts_with('.'))
        {
            return Err(JournalError::NotAJournal {
                path: dir.to_owned(),
                reason: format!("it contains {name:?}, which a journal never holds"),
            });
        }
    }
    segments.sort_by_key(|s| s.index);
    for (position, segment) in segments.iter().enumerate() {
        if segment.index != position as u64 + 1 {
            return Err(JournalError::NotAJournal {
                path: dir.to_owned(),
                reason: format!(
                    "segment numbers must run 1, 2, 3, ... without gaps; found {} at position {}",
                    segment.index,
                    position + 1
                ),
            });
        }
    }
    Ok(segments)
}

/// A record as stored: its place, decoded body, hash and signature.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// Byte offset of the frame within its segment file.
    pub offset: u64,
    /// The decoded body.
    pub body: RecordBody,
    /// The stored hash (checked equal to the recomputed one).
    pub hash: format::Hash,
    /// The stored signature (not checked here).
    pub signature: [u8; format::SIGNATURE_LEN],
    /// The complete frame bytes.
    pub frame: Vec<u8>,
}

/// Why a segment could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanStop {
    /// Offset of the first byte not accounted for by a good record.
    pub offset: u64,
    /// What is wrong there.
    pub reason: String,
    /// True when the bytes from `offset` to the end look like an interrupted
    /// write (an incomplete frame, or a bad final frame) rather than damage
    /// followed by more records.
    pub torn: bool,
}

/// The records of one segment, read and hash-checked, but not verified
/// against signatures or the chain.
#[derive(Debug, Clone)]
pub struct SegmentScan {
    /// The segment index written in the header.
    pub header_index: Option<u64>,
    /// Records in order.
    pub records: Vec<StoredRecord>,
    /// Set when the segment does not end cleanly after its last record.
    pub stop: Option<ScanStop>,
    /// Total file length.
    pub len: u64,
}

/// Reads a segment file and splits it into records.
pub fn scan_segment(path: &Path) -> Result<SegmentScan, JournalError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    Ok(scan_bytes(&bytes))
}

/// Splits segment bytes into records; see [`scan_segment`].
pub fn scan_bytes(bytes: &[u8]) -> SegmentScan {
    let len = bytes.len() as u64;
    let header_index = match format::decode_segment_header(bytes) {
        Ok(index) => index,
        Err(err) => {
            let torn = matches!(err, DecodeError::Truncated { .. });
            return SegmentScan {
                header_index: None,
                records: Vec::new(),
                stop: Some(ScanStop { offset: 0, reason: format!("segment header: {err}"), torn }),
                len,
            };
        }
    };
    let mut records = Vec::new();
    let mut pos = SEGMENT_HEADER_LEN;
    let stop = loop {
        let rest = &bytes[pos..];
        let frame: RawFrame<'_> = match format::split_frame(rest) {
            Ok(None) => break None,
            Ok(Some(frame)) => frame,
            Err(err) => {
                // An incomplete frame or an impossible length at the end is
                // what an interrupted append leaves behind.
                break Some(ScanStop { offset: pos as u64, reason: err.to_string(), torn: true });
            }
        };
        let is_last = pos + frame.len == bytes.len();
        let recomputed = format::record_hash(frame.body);
        if &recomputed != frame.hash {
            break Some(ScanStop {
                offset: pos as u64,
                reason: "stored hash does not match the record's contents".into(),
                torn: is_last,
            });
        }
        let body = match RecordBody::decode(frame.body) {
            Ok(body) => body,
            Err(err) => break Some(ScanStop { offset: pos as u64, reason: err.to_string(), torn: is_last }),
        };
        records.push(StoredRecord {
            offset: pos as u64,
            body,
            hash: *frame.hash,
            signature: *frame.signature,
            frame: rest[..frame.len].to_vec(),
        });
        pos += frame.len;
    };
    SegmentScan { header_index: Some(header_index), records, stop, len }
}

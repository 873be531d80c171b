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

/// Windows' reserved device names: `CON`, `NUL`, `COM1`, ... name a device
/// in every directory (also with an extension, `nul.txt`), so a journal
/// directory called so gave errors that said nothing of the cause
/// ("Invalid handle", "File already exists", "NUL\LOCK: Path not found").
#[cfg(windows)]
const RESERVED_NAMES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
    "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹",
    "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// Refuses, on Windows, a journal path with a reserved device name in it
/// (a `\\?\` path is taken literally by Windows and is not checked).
pub(crate) fn check_dir_name(dir: &Path) -> Result<(), JournalError> {
    #[cfg(windows)]
    {
        use std::path::{Component, Prefix};
        if let Some(Component::Prefix(prefix)) = dir.components().next() {
            if matches!(prefix.kind(), Prefix::Verbatim(_) | Prefix::VerbatimDisk(_) | Prefix::VerbatimUNC(..)) {
                return Ok(());
            }
        }
        for component in dir.components() {
            let Component::Normal(name) = component else { continue };
            let name = name.to_string_lossy();
            // Windows ignores an extension and trailing dots and spaces.
            let stem = name.split('.').next().unwrap_or_default().trim_end_matches([' ', '.']);
            if let Some(reserved) = RESERVED_NAMES.iter().find(|r| r.eq_ignore_ascii_case(stem)) {
                return Err(JournalError::NotAJournal {
                    path: dir.to_owned(),
                    reason: format!(
                        "{name:?} is the reserved Windows device name {reserved}, not a directory; choose another name"
                    ),
                });
            }
        }
    }
    let _ = dir;
    Ok(())
}

/// Refuses, on Windows, to write a journal on a network share (a UNC path,
/// `\\server\share\...` or `\\?\UNC\server\share\...`): the journal
/// must keep recording while the network is down, and a share can also hang
/// every write for the SMB timeout. Reading one (an IT person verifying a
/// copy on a share) is allowed. A drive letter mapped to a share is not
/// recognised here (docs/platforms.md).
pub(crate) fn check_local_for_writing(dir: &Path) -> Result<(), JournalError> {
    #[cfg(windows)]
    {
        use std::path::{Component, Prefix};
        if let Some(Component::Prefix(prefix)) = dir.components().next() {
            if let Prefix::UNC(server, share) | Prefix::VerbatimUNC(server, share) = prefix.kind() {
                return Err(JournalError::NotAJournal {
                    path: dir.to_owned(),
                    reason: format!(
                        "it is on the network share \\\\{}\\{}: a journal is written on a local disk, so that it keeps recording while the network is down",
                        server.to_string_lossy(),
                        share.to_string_lossy()
                    ),
                });
            }
        }
    }
    let _ = dir;
    Ok(())
}

/// File name of segment `index` (from 1): `seg-00000001.journal`.
pub fn segment_name(index: u64) -> String {
    format!("seg-{index:08}.journal")
}

fn parse_segment_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("seg-")?.strip_suffix(".journal")?;
    if digits.len() < 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Only the name the writer gives: `seg-00000001.journal`, never `seg-000000001.journal`.
    digits.parse().ok().filter(|index| *index > 0 && segment_name(*index) == name)
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
    let segments = segment_files(dir)?;
    match segment_gap(&segments) {
        None => Ok(segments),
        Some(reason) => Err(JournalError::NotAJournal { path: dir.to_owned(), reason }),
    }
}

/// Where segment numbers do not run 1, 2, 3, ... (a segment removed or
/// added), if they do not.
pub fn segment_gap(segments: &[Segment]) -> Option<String> {
    segments.iter().enumerate().find(|(position, s)| s.index != *position as u64 + 1).map(|(position, s)| {
        format!(
            "segment numbers must run 1, 2, 3, ... without gaps; found {} at position {} (a segment was removed or added)",
            s.index,
            position + 1
        )
    })
}

/// Lists the segment files of the journal at `dir`, in index order, without
/// checking that their numbers run without gaps (see [`segment_gap`]).
pub fn segment_files(dir: &Path) -> Result<Vec<Segment>, JournalError> {
    check_dir_name(dir)?;
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
    /// True when the bytes from `offset` to the end are a torn tail: what an
    /// interrupted append leaves behind, and nothing else. That is an
    /// incomplete final frame (its length runs past the end of the file, or
    /// fewer than 4 bytes remain), or bytes that are all zero (space the file
    /// system allocated before the data reached it), and in either case no
    /// complete record with a correct hash anywhere in those bytes. A complete
    /// frame that is wrong, or a length that runs over later records, is
    /// damage or tampering, never torn.
    pub torn: bool,
    /// Complete frames with a correct hash and a decodable body found in the
    /// bytes from `offset` on, as (offset in the segment, sequence number):
    /// records that a damaged length hides.
    pub hidden_records: Vec<(u64, u64)>,
    /// False when those bytes held more candidate frames than
    /// [`find_records`] hashes (crafted input): they were not searched to
    /// the end, so they are never a torn tail.
    pub searched: bool,
}

impl ScanStop {
    fn new(bytes: &[u8], offset: usize, reason: String, incomplete: bool) -> Self {
        let tail = &bytes[offset..];
        let found = find_records(tail);
        let searched = found.searched;
        let hidden_records: Vec<(u64, u64)> =
            found.records.into_iter().map(|(at, seq)| ((offset + at) as u64, seq)).collect();
        let torn = (incomplete || tail.iter().all(|b| *b == 0)) && hidden_records.is_empty() && searched;
        let reason = if hidden_records.is_empty() && !searched {
            format!(
                "{reason}; the bytes from here on hold more candidate frames than are searched \
                 (made to be expensive to check): not an interrupted write (tampering or disk corruption)"
            )
        } else if hidden_records.is_empty() || torn {
            reason
        } else {
            let (at, seq) = hidden_records[0];
            format!(
                "{reason}; yet {} complete record(s) with a correct hash follow (the first, record {seq}, at offset {at}): \
                 a damaged length, not an interrupted write (tampering or disk corruption)",
                hidden_records.len()
            )
        };
        Self { offset: offset as u64, reason, torn, hidden_records, searched }
    }
}

/// Records found by [`find_records`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRecords {
    /// (offset, sequence number) of each record found, in order.
    pub records: Vec<(usize, u64)>,
    /// True when every offset was searched; false when the search stopped
    /// because the bytes held more candidates than it hashes.
    pub searched: bool,
}

/// How many body bytes [`find_records`] hashes per byte it searches. Real
/// records are hashed once each (at most the length of the input); what
/// passes the cheap checks without being a record is rare in real data. Bytes
/// made so that a long candidate frame starts every few bytes would cost
/// ~10,000 hashed bytes per byte searched without this bound.
pub const SEARCH_HASH_BUDGET_PER_BYTE: usize = 4;

/// Finds every complete frame in `bytes` whose stored hash matches its
/// contents and whose body decodes: (offset, sequence number). The search
/// tries every offset, continuing after the end of each record it finds. It
/// hashes at most [`SEARCH_HASH_BUDGET_PER_BYTE`] × `bytes.len()` plus one
/// maximal body; beyond that it stops and says so (`searched: false`).
pub fn find_records(bytes: &[u8]) -> FoundRecords {
    let mut found = Vec::new();
    let mut budget = bytes.len().saturating_mul(SEARCH_HASH_BUDGET_PER_BYTE).saturating_add(format::MAX_BODY_LEN);
    let mut at = 0;
    while at + format::FRAME_OVERHEAD <= bytes.len() {
        if let Ok(Some(frame)) = format::split_frame(&bytes[at..]) {
            // Cheap checks first: a body starts with version 1 and a known type.
            if frame.body[0] == format::BODY_VERSION && (1..=3).contains(&frame.body[1]) {
                let Some(left) = budget.checked_sub(frame.body.len()) else {
                    return FoundRecords { records: found, searched: false };
                };
                budget = left;
            }
            if frame.body[0] == format::BODY_VERSION
                && (1..=3).contains(&frame.body[1])
                && &format::record_hash(frame.body) == frame.hash
            {
                if let Ok(body) = RecordBody::decode(frame.body) {
                    found.push((at, body.seq));
                    at += frame.len;
                    continue;
                }
            }
        }
        at += 1;
    }
    FoundRecords { records: found, searched: true }
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
            let incomplete = matches!(err, DecodeError::Truncated { .. });
            return SegmentScan {
                header_index: None,
                records: Vec::new(),
                stop: Some(ScanStop::new(bytes, 0, format!("segment header: {err}"), incomplete)),
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
                // Only an incomplete frame can be an interrupted append.
                let incomplete = matches!(err, DecodeError::Truncated { .. });
                break Some(ScanStop::new(bytes, pos, err.to_string(), incomplete));
            }
        };
        let recomputed = format::record_hash(frame.body);
        if &recomputed != frame.hash {
            break Some(ScanStop::new(bytes, pos, "stored hash does not match the record's contents".into(), false));
        }
        let body = match RecordBody::decode(frame.body) {
            Ok(body) => body,
            Err(err) => break Some(ScanStop::new(bytes, pos, err.to_string(), false)),
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

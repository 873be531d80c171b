//! Payloads of the records the journal writes about itself.

use serde::{Deserialize, Serialize};

/// Kind of an epoch certificate record.
pub const KIND_EPOCH: &str = "journal.epoch";
/// Kind of a checkpoint record.
pub const KIND_CHECKPOINT: &str = "journal.checkpoint";
/// Kind of the event recorded after a torn tail was set aside.
pub const KIND_TORN_TAIL: &str = "journal.torn_tail";

/// Why an epoch started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochReason {
    /// The writer opened the journal (program start).
    Open,
    /// The previous epoch reached its record limit.
    RecordLimit,
    /// The previous epoch reached its age limit.
    TimeLimit,
}

/// Payload of an epoch certificate, signed by the device key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochCertificate {
    /// The device's long-lived public key, hex.
    pub device_public_key: String,
    /// The new epoch's public key, hex.
    pub epoch_public_key: String,
    /// Why the epoch started.
    pub reason: EpochReason,
}

/// Payload of a checkpoint: a signed tree head over all earlier records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointPayload {
    /// Number of records covered: sequences `0..tree_size`.
    pub tree_size: u64,
    /// RFC 9162 Merkle tree head over their record hashes, hex.
    pub root_hash: String,
}

/// Payload of the event that records a torn tail set aside after a crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TornTail {
    /// Segment file name the bytes were cut from.
    pub segment: String,
    /// Offset in that segment where they started.
    pub offset: u64,
    /// How many bytes were set aside.
    pub length: u64,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
    /// Where they are kept, relative to the journal directory.
    pub quarantined_as: String,
    /// Why they were not a complete record.
    pub reason: String,
}

impl TornTail {
    /// The rules serde cannot say: `sha256` is 64 lower-case hex digits, as
    /// every hex in the format (docs/journal-format.md, Conventions).
    pub fn check(&self) -> Result<(), String> {
        let hex_ok = self.sha256.len() == 64 && self.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex_ok {
            return Err(format!("{KIND_TORN_TAIL} payload: sha256 must be 64 lower-case hex digits"));
        }
        Ok(())
    }
}

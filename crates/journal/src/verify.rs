//! Verification of a whole journal, and exported checkpoints.
//!
//! The verifier trusts nothing in the directory: it recomputes every hash,
//! checks every link, binds every record to the key of its own epoch, checks
//! every epoch certificate against the device key, recomputes every
//! checkpoint's Merkle root, and optionally checks the journal against a
//! checkpoint obtained earlier (from the hub), which reveals truncation and
//! rewriting even by someone holding the device key.

use crate::error::JournalError;
use crate::format::{self, Hash, RecordBody, RecordType};
use crate::keys::PublicKey;
use crate::merkle::MerkleFrontier;
use crate::records::{CheckpointPayload, EpochCertificate, KIND_CHECKPOINT, KIND_EPOCH};
use crate::segment::{self, StoredRecord};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The first problem found, with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{} at offset {offset}: {reason}", file.display(), seq.map(|s| format!(" (record {s})")).unwrap_or_default())]
pub struct VerifyFailure {
    /// The segment file (or checkpoint file).
    pub file: PathBuf,
    /// Byte offset of the record.
    pub offset: u64,
    /// Sequence number, when the record could be decoded.
    pub seq: Option<u64>,
    /// Why verification failed.
    pub reason: String,
}

/// Why verification could not produce a verdict or found a problem.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The journal (or checkpoint) is not authentic or complete.
    #[error("verification failed: {0}")]
    Failed(#[from] VerifyFailure),
    /// The journal could not be read at all.
    #[error(transparent)]
    Unreadable(#[from] JournalError),
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Records verified.
    pub records: u64,
    /// Segment files verified.
    pub segments: u64,
    /// Epochs (epoch certificates) seen.
    pub epochs: u64,
    /// Writer sessions (program starts) seen.
    pub sessions: u64,
    /// Checkpoints verified inside the journal.
    pub checkpoints: u64,
    /// Hash of the last record, hex.
    pub last_hash: Option<String>,
    /// The device key that certified every epoch, hex.
    pub device_public_key: Option<String>,
    /// True when that key was given by the caller rather than read from the journal.
    pub device_key_pinned: bool,
    /// Size of the external checkpoint checked, if one was given.
    pub external_checkpoint_size: Option<u64>,
}

/// Options for [`verify_journal`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The device key every epoch certificate must be signed by. Without it
    /// the key in the first certificate is taken (trust on first use).
    pub device_key: Option<PublicKey>,
    /// A checkpoint obtained earlier that the journal must still contain.
    pub checkpoint: Option<ExportedCheckpoint>,
}

/// Verifies the journal at `dir` completely.
pub fn verify_journal(dir: &Path, options: &VerifyOptions) -> Result<VerifyReport, VerifyError> {
    let segments = segment::list_segments(dir)?;
    let mut verifier = Verifier::new(options.device_key);
    for seg in &segments {
        let scan = segment::scan_segment(&seg.path)?;
        let fail = |offset: u64, seq: Option<u64>, reason: String| VerifyFailure { file: seg.path.clone(), offset, seq, reason };
        match scan.header_index {
            Some(index) if index == seg.index => {}
            Some(index) => {
                return Err(fail(0, None, format!("segment header says {index}, file name says {} (segments swapped or renamed)", seg.index)).into())
            }
            None => {}
        }
        for record in &scan.records {
            verifier.check(record).map_err(|reason| fail(record.offset, Some(record.body.seq), reason))?;
        }
        if let Some(stop) = scan.stop {
            let reason = if stop.torn {
                format!("{}: the final record is incomplete or damaged (an interrupted write, or tampering); opening the journal for writing sets such a torn tail aside", stop.reason)
            } else {
                stop.reason
            };
            return Err(fail(stop.offset, None, reason).into());
        }
        verifier.segments += 1;
    }
    if let Some(checkpoint) = &options.checkpoint {
        verifier.check_external(checkpoint, dir)?;
    }
    Ok(verifier.report())
}

struct Verifier {
    device_key: Option<PublicKey>,
    pinned: bool,
    epoch: Option<(u32, PublicKey)>,
    session: Option<([u8; 16], u64)>,
    next_seq: u64,
    prev_hash: Hash,
    merkle: MerkleFrontier,
    /// Record hash by sequence, kept to check external checkpoints.
    hashes: Vec<Hash>,
    segments: u64,
    epochs: u64,
    sessions: u64,
    checkpoints: u64,
    external_size: Option<u64>,
}

impl Verifier {
    fn new(device_key: Option<PublicKey>) -> Self {
        Self {
            device_key,
            pinned: device_key.is_some(),
            epoch: None,
            session: None,
            next_seq: 0,
            prev_hash: [0; 32],
            merkle: MerkleFrontier::new(),
            hashes: Vec::new(),
            segments: 0,
            epochs: 0,
            sessions: 0,
            checkpoints: 0,
            external_size: None,
        }
    }

    fn check(&mut self, record: &StoredRecord) -> Result<(), String> {
        let body = &record.body;
        if body.seq != self.next_seq {
            return Err(format!(
                "sequence number is {}, expected {} (a record was removed, duplicated, reordered or inserted)",
                body.seq, self.next_seq
            ));
        }
        if body.prev_hash != self.prev_hash {
            return Err("previous-hash link does not match the record before it".into());
        }
        let message = format::signed_message(&record.hash);
        match body.record_type {
            RecordType::EpochCertificate => self.check_epoch_certificate(body, &message, &record.signature)?,
            RecordType::Event | RecordType::Checkpoint => {
                let (epoch, key) = self.epoch.ok_or("record before any epoch certificate")?;
                if body.epoch != epoch {
                    return Err(format!("record claims epoch {}, but epoch {epoch} is current", body.epoch));
                }
                if self.session.map(|(id, _)| id) != Some(body.session_id) {
                    return Err("a new writer session must begin with an epoch certificate".into());
                }
                if !key.verify(&message, &record.signature) {
                    return Err(format!("signature does not verify with the key of epoch {epoch}"));
                }
                if body.kind == KIND_EPOCH {
                    return Err(format!("kind {KIND_EPOCH} is only valid on an epoch certificate"));
                }
                if body.record_type == RecordType::Checkpoint {
                    self.check_checkpoint(body)?;
                } else if body.kind == KIND_CHECKPOINT {
                    return Err(format!("kind {KIND_CHECKPOINT} is only valid on a checkpoint record"));
                }
            }
        }
        if let Some((id, last_mono)) = self.session {
            if id == body.session_id && body.mono_ns < last_mono {
                return Err("monotonic time went backwards within a session".into());
            }
        }
        if self.session.map(|(id, _)| id) != Some(body.session_id) {
            self.sessions += 1;
        }
        self.session = Some((body.session_id, body.mono_ns));
        self.next_seq += 1;
        self.prev_hash = record.hash;
        self.merkle.push(&record.hash);
        self.hashes.push(record.hash);
        Ok(())
    }

    fn check_epoch_certificate(&mut self, body: &RecordBody, message: &[u8], signature: &[u8; 64]) -> Result<(), String> {
        if body.kind != KIND_EPOCH {
            return Err(format!("epoch certificate has kind {:?}, expected {KIND_EPOCH}", body.kind));
        }
        let cert: EpochCertificate =
            serde_json::from_slice(&body.payload).map_err(|e| format!("epoch certificate payload: {e}"))?;
        let device = PublicKey::from_hex(&cert.device_public_key).map_err(|e| format!("epoch certificate: {e}"))?;
        let epoch_key = PublicKey::from_hex(&cert.epoch_public_key).map_err(|e| format!("epoch certificate: {e}"))?;
        match self.device_key {
            Some(expected) if expected != device => {
                return Err(format!(
                    "epoch certificate names device key {}, expected {}",
                    device.to_hex(),
                    expected.to_hex()
                ))
            }
            Some(_) => {}
            None => self.device_key = Some(device),
        }
        if !device.verify(message, signature) {
            return Err("epoch certificate signature does not verify with the device key (forged certificate)".into());
        }
        let expected_epoch = self.epoch.map_or(1, |(n, _)| n + 1);
        if body.epoch != expected_epoch {
            return Err(format!("epoch certificate for epoch {}, expected {expected_epoch}", body.epoch));
        }
        self.epoch = Some((body.epoch, epoch_key));
        self.epochs += 1;
        Ok(())
    }

    fn check_checkpoint(&mut self, body: &RecordBody) -> Result<(), String> {
        if body.kind != KIND_CHECKPOINT {
            return Err(format!("checkpoint has kind {:?}, expected {KIND_CHECKPOINT}", body.kind));
        }
        let payload: CheckpointPayload =
            serde_json::from_slice(&body.payload).map_err(|e| format!("checkpoint payload: {e}"))?;
        if payload.tree_size != body.seq {
            return Err(format!("checkpoint covers {} records, but it is record {}", payload.tree_size, body.seq));
        }
        if payload.root_hash != hex::encode(self.merkle.root()) {
            return Err("checkpoint root hash does not match the records before it".into());
        }
        self.checkpoints += 1;
        Ok(())
    }

    fn check_external(&mut self, checkpoint: &ExportedCheckpoint, dir: &Path) -> Result<(), VerifyFailure> {
        let fail = |reason: String| VerifyFailure { file: dir.to_owned(), offset: 0, seq: Some(checkpoint.tree_size), reason };
        let verified = checkpoint.verify(self.device_key).map_err(|e| fail(format!("external checkpoint: {e}")))?;
        let seq = verified.seq;
        match self.hashes.get(seq as usize) {
            None => Err(fail(format!(
                "journal has {} records, but a checkpoint of it covered {} (the journal was truncated)",
                self.hashes.len(),
                seq + 1
            ))),
            Some(hash) if *hash != verified.hash => Err(fail(format!(
                "record {seq} differs from the one the checkpoint signed (history was rewritten)"
            ))),
            Some(_) => {
                let mut frontier = MerkleFrontier::new();
                self.hashes[..checkpoint.tree_size as usize].iter().for_each(|h| frontier.push(h));
                if hex::encode(frontier.root()) != checkpoint.root_hash {
                    return Err(fail("Merkle root over the covered records differs from the checkpoint".into()));
                }
                self.external_size = Some(checkpoint.tree_size);
                Ok(())
            }
        }
    }

    fn report(&self) -> VerifyReport {
        VerifyReport {
            records: self.next_seq,
            segments: self.segments,
            epochs: self.epochs,
            sessions: self.sessions,
            checkpoints: self.checkpoints,
            last_hash: (self.next_seq > 0).then(|| hex::encode(self.prev_hash)),
            device_public_key: self.device_key.map(|k| k.to_hex()),
            device_key_pinned: self.pinned,
            external_checkpoint_size: self.external_size,
        }
    }
}

/// Identifies the exported checkpoint format.
pub const CHECKPOINT_FORMAT: &str = "exam-journal-checkpoint/v1";

/// A checkpoint taken out of a journal, to be kept elsewhere (by the hub)
/// and later checked against the journal. Self-contained: it carries the
/// checkpoint record and the epoch certificate that certifies its signer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedCheckpoint {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// Device id of the journal's device key.
    pub device_id: String,
    /// The device's public key, hex.
    pub device_public_key: String,
    /// Records covered.
    pub tree_size: u64,
    /// Merkle tree head over them, hex.
    pub root_hash: String,
    /// The complete checkpoint record frame, base64.
    pub checkpoint_record: String,
    /// The complete frame of the epoch certificate of the checkpoint's epoch, base64.
    pub epoch_certificate: String,
}

/// The checkpoint record an [`ExportedCheckpoint`] proves, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// Sequence number of the checkpoint record.
    pub seq: u64,
    /// Its record hash.
    pub hash: Hash,
}

impl ExportedCheckpoint {
    /// Checks both signatures and that the fields agree with the signed records.
    /// `device_key`, when given, must be the key that certified the epoch.
    pub fn verify(&self, device_key: Option<PublicKey>) -> Result<VerifiedCheckpoint, String> {
        if self.format != CHECKPOINT_FORMAT {
            return Err(format!("format {:?}, expected {CHECKPOINT_FORMAT:?}", self.format));
        }
        let device = PublicKey::from_hex(&self.device_public_key).map_err(|e| e.to_string())?;
        if let Some(expected) = device_key {
            if expected != device {
                return Err("checkpoint belongs to another device key".into());
            }
        }
        let cert = decode_frame(&self.epoch_certificate, "epoch_certificate")?;
        let record = decode_frame(&self.checkpoint_record, "checkpoint_record")?;
        if cert.0.record_type != RecordType::EpochCertificate || cert.0.epoch != record.0.epoch {
            return Err("epoch_certificate is not the certificate of the checkpoint's epoch".into());
        }
        if !device.verify(&format::signed_message(&cert.1), &cert.2) {
            return Err("epoch certificate signature does not verify with the device key".into());
        }
        let cert_payload: EpochCertificate =
            serde_json::from_slice(&cert.0.payload).map_err(|e| format!("epoch certificate payload: {e}"))?;
        if cert_payload.device_public_key != self.device_public_key {
            return Err("epoch certificate names another device key".into());
        }
        let epoch_key = PublicKey::from_hex(&cert_payload.epoch_public_key).map_err(|e| e.to_string())?;
        if record.0.record_type != RecordType::Checkpoint || !epoch_key.verify(&format::signed_message(&record.1), &record.2) {
            return Err("checkpoint record is not a checkpoint signed by its epoch key".into());
        }
        let payload: CheckpointPayload =
            serde_json::from_slice(&record.0.payload).map_err(|e| format!("checkpoint payload: {e}"))?;
        if payload.tree_size != self.tree_size || payload.root_hash != self.root_hash || payload.tree_size != record.0.seq {
            return Err("tree_size or root_hash disagree with the signed checkpoint record".into());
        }
        if self.device_id != device.device_id() {
            return Err("device_id does not belong to device_public_key".into());
        }
        Ok(VerifiedCheckpoint { seq: record.0.seq, hash: record.1 })
    }
}

fn decode_frame(b64: &str, field: &str) -> Result<(RecordBody, Hash, [u8; 64]), String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("{field}: {e}"))?;
    let frame = format::split_frame(&bytes)
        .map_err(|e| format!("{field}: {e}"))?
        .ok_or_else(|| format!("{field}: empty"))?;
    if frame.len != bytes.len() {
        return Err(format!("{field}: trailing bytes"));
    }
    let hash = format::record_hash(frame.body);
    if &hash != frame.hash {
        return Err(format!("{field}: hash does not match contents"));
    }
    let body = RecordBody::decode(frame.body).map_err(|e| format!("{field}: {e}"))?;
    Ok((body, hash, *frame.signature))
}

/// Extracts the latest checkpoint of the journal at `dir`, with the epoch
/// certificate that certifies it. `None` when the journal has no checkpoint.
pub fn latest_checkpoint(dir: &Path) -> Result<Option<ExportedCheckpoint>, JournalError> {
    let mut certificates: Vec<StoredRecord> = Vec::new();
    let mut latest: Option<StoredRecord> = None;
    for seg in segment::list_segments(dir)? {
        let scan = segment::scan_segment(&seg.path)?;
        for record in scan.records {
            match record.body.record_type {
                RecordType::EpochCertificate => certificates.push(record),
                RecordType::Checkpoint => latest = Some(record),
                RecordType::Event => {}
            }
        }
    }
    let Some(record) = latest else { return Ok(None) };
    let damaged = |reason: String| JournalError::Damaged { file: dir.to_owned(), offset: record.offset, reason };
    let cert = certificates
        .iter()
        .rev()
        .find(|cert| cert.body.epoch == record.body.epoch)
        .ok_or_else(|| damaged("no epoch certificate for the checkpoint's epoch".into()))?;
    let cert_payload: EpochCertificate = serde_json::from_slice(&cert.body.payload)
        .map_err(|e| damaged(format!("epoch certificate payload: {e}")))?;
    let payload: CheckpointPayload =
        serde_json::from_slice(&record.body.payload).map_err(|e| damaged(format!("checkpoint payload: {e}")))?;
    let device = PublicKey::from_hex(&cert_payload.device_public_key)?;
    let b64 = &base64::engine::general_purpose::STANDARD;
    Ok(Some(ExportedCheckpoint {
        format: CHECKPOINT_FORMAT.into(),
        device_id: device.device_id(),
        device_public_key: device.to_hex(),
        tree_size: payload.tree_size,
        root_hash: payload.root_hash,
        checkpoint_record: b64.encode(&record.frame),
        epoch_certificate: b64.encode(&cert.frame),
    }))
}

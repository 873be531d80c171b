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
use crate::records::{CheckpointPayload, EpochCertificate};
use crate::stream::ChainVerifier;
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
    /// The last record the hub acknowledged and the journal still holds
    /// unchanged, when [`VerifyOptions::acknowledged`] was given.
    pub hub_acknowledged_through: Option<u64>,
    /// Files in `quarantine/`: torn tails a writer set aside. A valid journal
    /// has none that holds a complete record.
    pub quarantined: Vec<QuarantinedFile>,
}

/// One file in the journal's `quarantine/` directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedFile {
    /// Its path relative to the journal directory.
    pub name: String,
    /// Its length in bytes.
    pub length: u64,
    /// Complete records with a correct hash found in it, as (offset, sequence).
    pub records: Vec<(u64, u64)>,
    /// True when the whole file was searched. False when it is larger than
    /// [`MAX_QUARANTINE_FILE`] (not read) or held more candidate frames than
    /// are searched (see [`segment::find_records`]): such a file is no torn
    /// tail a writer set aside, and verification fails on it.
    pub searched: bool,
}

/// A quarantined file larger than this is not read: a writer sets aside at
/// most the tail of one segment (8 MiB by default).
pub const MAX_QUARANTINE_FILE: u64 = 64 * 1024 * 1024;

/// Lists `quarantine/` and searches every file in it for complete records.
pub fn quarantined_files(dir: &Path) -> Result<Vec<QuarantinedFile>, JournalError> {
    let quarantine = dir.join(segment::QUARANTINE_DIR);
    let entries = match std::fs::read_dir(&quarantine) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::error::io(&quarantine)(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(crate::error::io(&quarantine))?;
        let path = entry.path();
        let name = format!("{}/{}", segment::QUARANTINE_DIR, entry.file_name().to_string_lossy());
        let length = std::fs::metadata(&path).map_err(crate::error::io(&path))?.len();
        if length > MAX_QUARANTINE_FILE {
            files.push(QuarantinedFile { name, length, records: Vec::new(), searched: false });
            continue;
        }
        let bytes = std::fs::read(&path).map_err(crate::error::io(&path))?;
        let found = segment::find_records(&bytes);
        let records = found.records.into_iter().map(|(at, seq)| (at as u64, seq)).collect();
        files.push(QuarantinedFile { name, length: bytes.len() as u64, records, searched: found.searched });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Options for [`verify_journal`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The device key every epoch certificate must be signed by. Without it
    /// the key in the first certificate is taken (trust on first use).
    pub device_key: Option<PublicKey>,
    /// A checkpoint obtained earlier that the journal must still contain.
    pub checkpoint: Option<ExportedCheckpoint>,
    /// A record the hub acknowledged, as (sequence, record hash), taken from
    /// the hub's signed journal receipt (whose signature the caller checked):
    /// the journal must still hold exactly this record there. Through the
    /// hash chain this fixes every record before it too, so a rewrite of any
    /// of them is found even when made with the device key.
    pub acknowledged: Option<(u64, Hash)>,
}

/// Verifies the journal at `dir` completely.
pub fn verify_journal(dir: &Path, options: &VerifyOptions) -> Result<VerifyReport, VerifyError> {
    let segments = segment::segment_files(dir)?;
    if let Some(reason) = segment::segment_gap(&segments) {
        return Err(VerifyFailure { file: dir.to_owned(), offset: 0, seq: None, reason }.into());
    }
    let mut verifier = Verifier::new(options.device_key);
    for (position, seg) in segments.iter().enumerate() {
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
            let reason = if stop.torn && position + 1 == segments.len() {
                format!("{}: a torn tail (the final record is incomplete: an interrupted write, or a cut); opening the journal for writing sets it aside", stop.reason)
            } else {
                stop.reason
            };
            return Err(fail(stop.offset, None, reason).into());
        }
        if scan.records.is_empty() && position + 1 < segments.len() {
            return Err(fail(
                format::SEGMENT_HEADER_LEN as u64,
                None,
                "segment holds no record, yet a later segment exists".into(),
            )
            .into());
        }
        verifier.segments += 1;
    }
    if verifier.chain.next_seq() == 0 {
        return Err(VerifyFailure {
            file: dir.to_owned(),
            offset: 0,
            seq: None,
            reason: "the journal holds no record (every segment missing or empty)".into(),
        }
        .into());
    }
    verifier.quarantined = quarantined_files(dir)?;
    if let Some(file) = verifier.quarantined.iter().find(|f| !f.records.is_empty()) {
        let seqs: Vec<String> = file.records.iter().map(|(_, seq)| seq.to_string()).collect();
        return Err(VerifyFailure {
            file: dir.join(&file.name),
            offset: file.records[0].0,
            seq: Some(file.records[0].1),
            reason: format!(
                "quarantine holds {} complete record(s) (sequence {}) that were set aside from the journal: evidence was removed",
                file.records.len(),
                seqs.join(", ")
            ),
        }
        .into());
    }
    if let Some(file) = verifier.quarantined.iter().find(|f| !f.searched) {
        return Err(VerifyFailure {
            file: dir.join(&file.name),
            offset: 0,
            seq: None,
            reason: if file.length > MAX_QUARANTINE_FILE {
                format!(
                    "quarantine file of {} bytes is larger than {MAX_QUARANTINE_FILE} bytes and was not searched for \
                     records: it is no torn tail a writer set aside",
                    file.length
                )
            } else {
                "quarantine file holds more candidate frames than are searched (made to be expensive to check), \
                 so it was not searched to its end: it is no torn tail a writer set aside"
                    .into()
            },
        }
        .into());
    }
    if let Some(checkpoint) = &options.checkpoint {
        verifier.check_external(checkpoint, dir)?;
    }
    if let Some((seq, hash)) = options.acknowledged {
        let fail = |reason: String| VerifyFailure { file: dir.to_owned(), offset: 0, seq: Some(seq), reason };
        match verifier.hashes.get(seq as usize) {
            None => {
                return Err(fail(format!(
                    "journal has {} records, but the hub acknowledged records through {seq} (the journal was truncated)",
                    verifier.hashes.len()
                ))
                .into())
            }
            Some(stored) if *stored != hash => {
                return Err(fail(format!(
                    "record {seq} differs from the one the hub acknowledged (this record or one before it was rewritten)"
                ))
                .into())
            }
            Some(_) => verifier.acknowledged = Some(seq),
        }
    }
    Ok(verifier.report())
}

/// Whole-journal verification: the record rules are [`ChainVerifier`]'s
/// (the same the hub applies batch by batch); this adds the counts and keeps
/// every record hash for checks against an external checkpoint.
struct Verifier {
    chain: ChainVerifier,
    pinned: bool,
    /// Record hash by sequence, kept to check external checkpoints.
    hashes: Vec<Hash>,
    last_session: Option<[u8; 16]>,
    segments: u64,
    epochs: u64,
    sessions: u64,
    checkpoints: u64,
    external_size: Option<u64>,
    acknowledged: Option<u64>,
    quarantined: Vec<QuarantinedFile>,
}

impl Verifier {
    fn new(device_key: Option<PublicKey>) -> Self {
        Self {
            chain: ChainVerifier::new(device_key),
            pinned: device_key.is_some(),
            hashes: Vec::new(),
            last_session: None,
            segments: 0,
            epochs: 0,
            sessions: 0,
            checkpoints: 0,
            external_size: None,
            acknowledged: None,
            quarantined: Vec::new(),
        }
    }

    fn check(&mut self, record: &StoredRecord) -> Result<(), String> {
        let body = &record.body;
        self.chain.check_record(body, &record.hash, &record.signature, &mut crate::stream::Signatures::Now)?;
        match body.record_type {
            RecordType::EpochCertificate => self.epochs += 1,
            RecordType::Checkpoint => self.checkpoints += 1,
            RecordType::Event => {}
        }
        if self.last_session != Some(body.session_id) {
            self.sessions += 1;
            self.last_session = Some(body.session_id);
        }
        self.hashes.push(record.hash);
        Ok(())
    }

    fn check_external(&mut self, checkpoint: &ExportedCheckpoint, dir: &Path) -> Result<(), VerifyFailure> {
        let fail = |reason: String| VerifyFailure { file: dir.to_owned(), offset: 0, seq: Some(checkpoint.tree_size), reason };
        let verified = checkpoint.verify(self.chain.device_key()).map_err(|e| fail(format!("external checkpoint: {e}")))?;
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
            records: self.chain.next_seq(),
            segments: self.segments,
            epochs: self.epochs,
            sessions: self.sessions,
            checkpoints: self.checkpoints,
            last_hash: self.hashes.last().map(hex::encode),
            device_public_key: self.chain.device_key().map(|k| k.to_hex()),
            device_key_pinned: self.pinned,
            external_checkpoint_size: self.external_size,
            hub_acknowledged_through: self.acknowledged,
            quarantined: self.quarantined.clone(),
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

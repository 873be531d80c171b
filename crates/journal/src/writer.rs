//! The journal writer: durable appends, epochs, checkpoints, segment rotation
//! and crash recovery.

use crate::config::JournalConfig;
use crate::cursor::SyncCursor;
use crate::error::{io, JournalError};
use crate::format::{self, Hash, RecordBody, RecordType};
use crate::keys::SigningKey;
use crate::merkle::MerkleFrontier;
use crate::records::{self, CheckpointPayload, EpochCertificate, EpochReason, TornTail};
use crate::segment::{self, Segment, LOCK_FILE, QUARANTINE_DIR};
use crate::stream::ChainVerifier;
use ring::rand::SecureRandom as _;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// One integrity event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    kind: String,
    payload: Vec<u8>,
}

/// Characters of an oversized payload kept in its summary ([`Event::new_or_summary`]).
pub const SUMMARY_PREFIX_CHARS: usize = 1024;

impl Event {
    /// An event with a structured payload.
    pub fn new(kind: &str, payload: &impl Serialize) -> Result<Self, JournalError> {
        let payload = serde_json::to_vec(payload).map_err(|e| JournalError::InvalidEvent(e.to_string()))?;
        Self::from_bytes(kind, payload)
    }

    /// [`Event::new`], except that a payload too large for one record
    /// (more than 64 KiB of JSON) is replaced by a summary of it, so the event
    /// is never lost: `{"summarised": true, "bytes": N, "sha256": "<64 hex,
    /// of the JSON>", "prefix": "<its first 1,024 characters>"}`.
    pub fn new_or_summary(kind: &str, payload: &impl Serialize) -> Result<Self, JournalError> {
        let bytes = serde_json::to_vec(payload).map_err(|e| JournalError::InvalidEvent(e.to_string()))?;
        if bytes.len() <= format::MAX_PAYLOAD_LEN {
            return Self::from_bytes(kind, bytes);
        }
        let summary = serde_json::json!({
            "summarised": true,
            "bytes": bytes.len(),
            "sha256": hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)),
            "prefix": String::from_utf8_lossy(&bytes).chars().take(SUMMARY_PREFIX_CHARS).collect::<String>(),
        });
        Self::new(kind, &summary)
    }

    /// An event whose payload is given as JSON text (checked, then stored compact).
    pub fn from_json(kind: &str, json: &str) -> Result<Self, JournalError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| JournalError::InvalidEvent(format!("payload is not JSON: {e}")))?;
        Self::new(kind, &value)
    }

    fn from_bytes(kind: &str, payload: Vec<u8>) -> Result<Self, JournalError> {
        format::validate_kind(kind).map_err(|e| JournalError::InvalidEvent(format!("kind {kind:?}: {e}")))?;
        if payload.len() > format::MAX_PAYLOAD_LEN {
            return Err(JournalError::InvalidEvent(format!(
                "payload is {} bytes, more than {}",
                payload.len(),
                format::MAX_PAYLOAD_LEN
            )));
        }
        if kind.starts_with("journal.") {
            return Err(JournalError::InvalidEvent("kinds starting with `journal.` are reserved".into()));
        }
        Ok(Self { kind: kind.to_owned(), payload })
    }

    /// The event kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }
}

/// Proof that a record is durably stored: its sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Sequence number of the record.
    pub seq: u64,
    /// Its record hash.
    pub hash: Hash,
}

/// The position of the writer: what the next record chains to.
#[derive(Debug, Clone)]
struct Tip {
    next_seq: u64,
    last_hash: Hash,
    merkle: MerkleFrontier,
    epoch: u32,
    epoch_records: u64,
    epoch_started: Instant,
    records_since_checkpoint: u64,
    last_checkpoint_at: Instant,
}

struct OpenSegment {
    index: u64,
    file: File,
    path: PathBuf,
    len: u64,
}

/// The append-only writer of one journal directory.
///
/// Opening starts a new session and a new epoch; every append is durable
/// (written and `fdatasync`ed) before it returns. Only one writer may hold a
/// journal at a time.
pub struct Journal {
    dir: PathBuf,
    config: JournalConfig,
    _lock: File,
    device_key: SigningKey,
    epoch_key: SigningKey,
    session_id: [u8; 16],
    session_start: Instant,
    tip: Tip,
    segment: OpenSegment,
    /// First sequence number of each segment, by position (index - 1).
    segment_first_seq: Vec<u64>,
    cursor: Option<SyncCursor>,
    poisoned: bool,
    /// Set by [`Journal::seal`]: the closing checkpoint is written, nothing follows it.
    closed: bool,
    recovered: Option<TornTail>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal").field("dir", &self.dir).field("next_seq", &self.tip.next_seq).finish()
    }
}

/// How long [`Journal::open`] waits for the writer lock before it says
/// `Locked`: a lock is an `flock` on the open file, and a process that
/// forks (any thread starting a program) holds a copy of every open file
/// until its child execs — so a journal just closed can look locked for a
/// moment. Another writer holds it for longer and is reported.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn take_lock(lock: &std::fs::File, dir: &Path, lock_path: &Path) -> Result<(), JournalError> {
    let deadline = Instant::now() + LOCK_WAIT;
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match lock.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(JournalError::Locked(dir.to_owned())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(lock_path)(e)),
        }
    }
}

impl Journal {
    /// Opens (or creates) the journal at `dir` for appending.
    ///
    /// Checks the hash chain of what is there, sets aside a torn final record
    /// left by a crash (recording that as an event), starts a new session and
    /// epoch, and writes the epoch certificate durably.
    pub fn open(dir: &Path, device_key: SigningKey, config: JournalConfig) -> Result<Self, JournalError> {
        segment::check_dir_name(dir)?;
        segment::check_local_for_writing(dir)?;
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            // A relative one-component path (`journal`) has the empty path as
            // its parent: that is the current directory.
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            sync_dir(parent)?;
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        take_lock(&lock, dir, &lock_path)?;

        let segments = segment::list_segments(dir)?;
        let cursor = SyncCursor::load(dir)?;
        let recovered_state = recover(dir, &segments, &device_key, cursor.as_ref())?;
        let now = Instant::now();
        let tip = Tip {
            next_seq: recovered_state.next_seq,
            last_hash: recovered_state.last_hash,
            merkle: recovered_state.merkle,
            epoch: recovered_state.last_epoch,
            epoch_records: 0,
            epoch_started: now,
            records_since_checkpoint: 0,
            last_checkpoint_at: now,
        };
        let segment = match recovered_state.open_segment {
            Some(seg) => {
                let file = OpenOptions::new().append(true).open(&seg.path).map_err(io(&seg.path))?;
                let len = file.metadata().map_err(io(&seg.path))?.len();
                OpenSegment { index: seg.index, file, path: seg.path, len }
            }
            // A fresh journal, or a last segment whose header was torn.
            None => create_segment(dir, recovered_state.segment_first_seq.len() as u64 + 1)?,
        };
        let mut segment_first_seq = recovered_state.segment_first_seq;
        if segment_first_seq.len() < segment.index as usize {
            segment_first_seq.push(tip.next_seq);
        }
        let mut session_id = [0u8; 16];
        ring::rand::SystemRandom::new()
            .fill(&mut session_id)
            .map_err(|_| JournalError::Key(crate::keys::KeyError::Random))?;
        let (placeholder_epoch_key, _) = SigningKey::generate()?;
        let mut journal = Self {
            dir: dir.to_owned(),
            config,
            _lock: lock,
            device_key,
            epoch_key: placeholder_epoch_key,
            session_id,
            session_start: now,
            tip,
            segment,
            segment_first_seq,
            cursor,
            poisoned: false,
            closed: false,
            recovered: recovered_state.torn.clone(),
        };
        // The session begins with its epoch certificate, then the recovery
        // event, both durable before open returns.
        let mut staged = Staged::new(journal.tip.clone());
        journal.stage_epoch(&mut staged, EpochReason::Open)?;
        if let Some(torn) = &recovered_state.torn {
            let event = Event { kind: records::KIND_TORN_TAIL.into(), payload: to_json(torn)? };
            journal.stage_record(&mut staged, RecordType::Event, &event.kind, &event.payload);
        }
        journal.commit(staged)?;
        Ok(journal)
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment files that hold the records numbered `seq` and later, in
    /// order: what a sync that already sent everything before `seq` needs to
    /// read (with [`crate::read_frames_from`], without this writer's lock),
    /// instead of the whole journal every few seconds.
    pub fn segments_from(&self, seq: u64) -> Vec<PathBuf> {
        let first = self.segment_first_seq.partition_point(|first| *first <= seq).saturating_sub(1);
        (first..self.segment_first_seq.len()).map(|i| self.dir.join(segment::segment_name(i as u64 + 1))).collect()
    }

    /// Public key of the device key that certifies this journal's epochs.
    pub fn device_public_key(&self) -> crate::keys::PublicKey {
        self.device_key.public_key()
    }

    /// The torn tail set aside when this writer opened, if there was one.
    pub fn recovered_torn_tail(&self) -> Option<&TornTail> {
        self.recovered.as_ref()
    }

    /// Number of records in the journal.
    pub fn len(&self) -> u64 {
        self.tip.next_seq
    }

    /// True when the journal holds no records (never after `open`).
    pub fn is_empty(&self) -> bool {
        self.tip.next_seq == 0
    }

    /// The last record written.
    pub fn last(&self) -> Option<Receipt> {
        self.tip.next_seq.checked_sub(1).map(|seq| Receipt { seq, hash: self.tip.last_hash })
    }

    /// Appends one event durably.
    pub fn append(&mut self, event: &Event) -> Result<Receipt, JournalError> {
        let receipts = self.append_batch(std::slice::from_ref(event))?;
        Ok(receipts[0])
    }

    /// Appends a burst of events with one `fdatasync` (group commit): either
    /// all are durable when this returns `Ok`, or none is acknowledged.
    pub fn append_batch(&mut self, events: &[Event]) -> Result<Vec<Receipt>, JournalError> {
        let mut staged = Staged::new(self.tip.clone());
        let mut receipts = Vec::with_capacity(events.len());
        for event in events {
            self.stage_rotation_if_due(&mut staged)?;
            receipts.push(self.stage_record(&mut staged, RecordType::Event, &event.kind, &event.payload));
            if staged.tip.records_since_checkpoint >= self.config.checkpoint_every_records
                || staged.tip.last_checkpoint_at.elapsed() >= self.config.checkpoint_every
            {
                self.stage_checkpoint(&mut staged)?;
            }
        }
        self.commit(staged)?;
        Ok(receipts)
    }

    /// Writes a checkpoint now (signed tree head over every earlier record).
    pub fn checkpoint(&mut self) -> Result<Receipt, JournalError> {
        let mut staged = Staged::new(self.tip.clone());
        self.stage_rotation_if_due(&mut staged)?;
        let receipt = self.stage_checkpoint(&mut staged)?;
        self.commit(staged)?;
        Ok(receipt)
    }

    /// What the hub has acknowledged so far.
    pub fn sync_cursor(&self) -> Option<&SyncCursor> {
        self.cursor.as_ref()
    }

    /// Records that the hub has stored every record up to `seq`, whose hash
    /// must be `hash`. The cursor only moves forward.
    pub fn acknowledge(&mut self, seq: u64, hash: &Hash) -> Result<(), JournalError> {
        self.acknowledge_with_receipt(seq, hash, None)
    }

    /// As [`Journal::acknowledge`], keeping the hub's signed receipt for it
    /// next to the journal (in the sync cursor; the caller has checked its
    /// signature and that it names `seq` and `hash`).
    pub fn acknowledge_with_receipt(
        &mut self,
        seq: u64,
        hash: &Hash,
        hub_receipt: Option<serde_json::Value>,
    ) -> Result<(), JournalError> {
        if seq >= self.tip.next_seq {
            return Err(JournalError::BadAcknowledgement(format!(
                "sequence {seq} is beyond the last record {}",
                self.tip.next_seq.saturating_sub(1)
            )));
        }
        if let Some(cursor) = &self.cursor {
            if seq < cursor.acked_seq {
                return Err(JournalError::BadAcknowledgement(format!(
                    "sequence {seq} is before the current cursor {}",
                    cursor.acked_seq
                )));
            }
        }
        let stored = self.read_hash(seq)?;
        if &stored != hash {
            return Err(JournalError::BadAcknowledgement(format!("hash for sequence {seq} does not match the journal")));
        }
        let cursor = SyncCursor { acked_seq: seq, acked_hash: hex::encode(hash), hub_receipt };
        cursor.store(&self.dir)?;
        self.cursor = Some(cursor);
        Ok(())
    }

    /// Writes a final checkpoint and closes the writer.
    pub fn close(mut self) -> Result<Receipt, JournalError> {
        self.seal()
    }

    /// Writes the closing checkpoint (at session end or shutdown) and refuses
    /// every later append with [`JournalError::Closed`], so the journal ends
    /// with a checkpoint even when other parts of the program still hold the
    /// writer. Sealing again returns the same checkpoint.
    pub fn seal(&mut self) -> Result<Receipt, JournalError> {
        if self.closed {
            return self.last().ok_or(JournalError::Closed);
        }
        let receipt = self.checkpoint()?;
        self.closed = true;
        Ok(receipt)
    }

    /// True once [`Journal::seal`] has written the closing checkpoint.
    pub fn is_sealed(&self) -> bool {
        self.closed
    }

    fn read_hash(&self, seq: u64) -> Result<Hash, JournalError> {
        let position = self.segment_first_seq.partition_point(|first| *first <= seq).saturating_sub(1);
        let path = self.dir.join(segment::segment_name(position as u64 + 1));
        let scan = segment::scan_segment(&path)?;
        scan.records
            .iter()
            .find(|r| r.body.seq == seq)
            .map(|r| r.hash)
            .ok_or_else(|| JournalError::Damaged { file: path, offset: 0, reason: format!("record {seq} not found") })
    }

    fn stage_rotation_if_due(&mut self, staged: &mut Staged) -> Result<(), JournalError> {
        let reason = if staged.tip.epoch_records >= self.config.epoch_max_records {
            EpochReason::RecordLimit
        } else if staged.tip.epoch_started.elapsed() >= self.config.epoch_max_age {
            EpochReason::TimeLimit
        } else {
            return Ok(());
        };
        self.stage_epoch(staged, reason)
    }

    fn stage_epoch(&mut self, staged: &mut Staged, reason: EpochReason) -> Result<(), JournalError> {
        let (epoch_key, _pkcs8) = SigningKey::generate()?;
        let certificate = EpochCertificate {
            device_public_key: self.device_key.public_key().to_hex(),
            epoch_public_key: epoch_key.public_key().to_hex(),
            reason,
        };
        staged.tip.epoch += 1;
        staged.tip.epoch_records = 0;
        staged.tip.epoch_started = Instant::now();
        let payload = to_json(&certificate)?;
        self.stage_record(staged, RecordType::EpochCertificate, records::KIND_EPOCH, &payload);
        staged.epoch_key = Some(epoch_key);
        Ok(())
    }

    fn stage_checkpoint(&mut self, staged: &mut Staged) -> Result<Receipt, JournalError> {
        let payload = CheckpointPayload {
            tree_size: staged.tip.merkle.size(),
            root_hash: hex::encode(staged.tip.merkle.root()),
        };
        let payload = to_json(&payload)?;
        let receipt = self.stage_record(staged, RecordType::Checkpoint, records::KIND_CHECKPOINT, &payload);
        staged.tip.records_since_checkpoint = 0;
        staged.tip.last_checkpoint_at = Instant::now();
        Ok(receipt)
    }

    fn stage_record(&self, staged: &mut Staged, record_type: RecordType, kind: &str, payload: &[u8]) -> Receipt {
        let tip = &mut staged.tip;
        let body = RecordBody {
            record_type,
            seq: tip.next_seq,
            wall_time_us: wall_time_us(),
            mono_ns: u64::try_from(self.session_start.elapsed().as_nanos()).unwrap_or(u64::MAX),
            session_id: self.session_id,
            epoch: tip.epoch,
            prev_hash: tip.last_hash,
            kind: kind.to_owned(),
            payload: payload.to_vec(),
        }
        .encode();
        let hash = format::record_hash(&body);
        let signer = match record_type {
            RecordType::EpochCertificate => &self.device_key,
            _ => staged.epoch_key.as_ref().unwrap_or(&self.epoch_key),
        };
        let signature = signer.sign(&format::signed_message(&hash));
        staged.frames.push(format::encode_frame(&body, &hash, &signature));
        let receipt = Receipt { seq: tip.next_seq, hash };
        tip.next_seq += 1;
        tip.last_hash = hash;
        tip.merkle.push(&hash);
        tip.records_since_checkpoint += 1;
        if record_type != RecordType::EpochCertificate {
            tip.epoch_records += 1;
        }
        receipt
    }

    /// Writes the staged frames and makes them durable; only then adopts the
    /// staged state. On failure nothing staged is acknowledged and the
    /// current segment is cut back to where it was.
    fn commit(&mut self, staged: Staged) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned);
        }
        if self.closed {
            return Err(JournalError::Closed);
        }
        let mut chunk: Vec<u8> = Vec::new();
        let mut rotated = false;
        let first_seq = self.tip.next_seq;
        for (i, frame) in staged.frames.iter().enumerate() {
            let header_only = self.segment.len + chunk.len() as u64 <= format::SEGMENT_HEADER_LEN as u64;
            if !header_only && self.segment.len + (chunk.len() + frame.len()) as u64 > self.config.segment_max_bytes {
                self.write_chunk(&chunk, rotated)?;
                chunk.clear();
                self.rotate_segment(first_seq + i as u64).inspect_err(|_| self.poisoned = true)?;
                rotated = true;
            }
            chunk.extend_from_slice(frame);
        }
        self.write_chunk(&chunk, rotated)?;
        self.tip = staged.tip;
        if let Some(key) = staged.epoch_key {
            // The previous epoch's private key is dropped here (forward security).
            self.epoch_key = key;
        }
        Ok(())
    }

    fn write_chunk(&mut self, chunk: &[u8], after_rotation: bool) -> Result<(), JournalError> {
        if chunk.is_empty() {
            return Ok(());
        }
        let seg = &mut self.segment;
        let result = seg.file.write_all(chunk).and_then(|()| seg.file.sync_data());
        match result {
            Ok(()) => {
                seg.len += chunk.len() as u64;
                Ok(())
            }
            Err(err) => {
                // Cut back any partial write so the segment ends on a record.
                let restored = seg.file.set_len(seg.len).and_then(|()| seg.file.sync_data());
                if restored.is_err() || after_rotation {
                    self.poisoned = true;
                }
                Err(io(&seg.path)(err))
            }
        }
    }

    fn rotate_segment(&mut self, first_seq: u64) -> Result<(), JournalError> {
        self.segment.file.sync_all().map_err(io(&self.segment.path))?;
        let next = create_segment(&self.dir, self.segment.index + 1)?;
        self.segment = next;
        self.segment_first_seq.push(first_seq);
        Ok(())
    }
}

/// Records prepared but not yet durable.
struct Staged {
    tip: Tip,
    frames: Vec<Vec<u8>>,
    epoch_key: Option<SigningKey>,
}

impl Staged {
    fn new(tip: Tip) -> Self {
        Self { tip, frames: Vec::new(), epoch_key: None }
    }
}

/// What `open` learns from the records already on disk.
struct Recovered {
    next_seq: u64,
    last_hash: Hash,
    merkle: MerkleFrontier,
    last_epoch: u32,
    open_segment: Option<Segment>,
    segment_first_seq: Vec<u64>,
    torn: Option<TornTail>,
}

/// Reads what is on disk and decides where the next record goes. Every record
/// is verified as [`crate::verify_journal`] would (hash, chain, signatures,
/// epoch certificates by this device key, checkpoints): the writer never
/// appends behind a record that fails verification, never sets aside complete
/// records (only an incomplete final frame is a torn tail), and never reuses a
/// sequence number the hub acknowledged.
fn recover(
    dir: &Path,
    segments: &[Segment],
    device_key: &SigningKey,
    cursor: Option<&SyncCursor>,
) -> Result<Recovered, JournalError> {
    let mut verifier = ChainVerifier::new(Some(device_key.public_key()));
    let mut state = Recovered {
        next_seq: 0,
        last_hash: [0; 32],
        merkle: MerkleFrontier::new(),
        last_epoch: 0,
        open_segment: segments.last().cloned(),
        segment_first_seq: Vec::new(),
        torn: None,
    };
    // A torn tail is set aside only after every check passed: a refusal
    // changes nothing.
    let mut torn_at: Option<(&Segment, u64, String, bool)> = None;
    for (position, seg) in segments.iter().enumerate() {
        let is_last = position + 1 == segments.len();
        let scan = segment::scan_segment(&seg.path)?;
        let damaged = |offset: u64, reason: String| JournalError::Damaged { file: seg.path.clone(), offset, reason };
        if let Some(header_index) = scan.header_index {
            if header_index != seg.index {
                return Err(damaged(0, format!("header names segment {header_index}, file name {}", seg.index)));
            }
        }
        state.segment_first_seq.push(state.next_seq);
        for record in &scan.records {
            let body = &record.body;
            if body.seq != state.next_seq || body.prev_hash != state.last_hash {
                return Err(damaged(record.offset, format!("chain broken at sequence {} (expected {})", body.seq, state.next_seq)));
            }
            if body.record_type == RecordType::EpochCertificate {
                let cert: EpochCertificate = serde_json::from_slice(&body.payload)
                    .map_err(|e| damaged(record.offset, format!("epoch certificate payload: {e}")))?;
                if cert.device_public_key != device_key.public_key().to_hex() {
                    return Err(damaged(
                        record.offset,
                        "this journal belongs to another device key; refusing to append".into(),
                    ));
                }
            }
            state.last_epoch = state.last_epoch.max(body.epoch);
            state.next_seq += 1;
            state.last_hash = record.hash;
            state.merkle.push(&record.hash);
        }
        let frames: Vec<&[u8]> = scan.records.iter().map(|r| r.frame.as_slice()).collect();
        if let (_, Some((index, reason))) = verifier.push_frames(&frames) {
            let record = &scan.records[index];
            return Err(damaged(
                record.offset,
                format!("record {} fails verification: {reason}; refusing to append behind it", record.body.seq),
            ));
        }
        if scan.records.is_empty() && scan.stop.is_none() && !is_last {
            return Err(damaged(
                format::SEGMENT_HEADER_LEN as u64,
                "segment holds no record, yet a later segment exists (segments were added or emptied)".into(),
            ));
        }
        if let Some(stop) = scan.stop {
            if !stop.torn {
                return Err(damaged(
                    stop.offset,
                    format!("{}; this is not a torn tail, so nothing is set aside and nothing is appended", stop.reason),
                ));
            }
            if !is_last {
                return Err(damaged(stop.offset, format!("{} in a segment that is not the last one", stop.reason)));
            }
            torn_at = Some((seg, stop.offset, stop.reason.clone(), scan.header_index.is_none()));
        }
    }
    // Checked before anything is set aside: a torn tail that would take a
    // record the hub acknowledged (or a journal cut below it) is refused
    // with the journal as it is.
    if let Some(cursor) = cursor {
        check_cursor(dir, cursor, segments, &state)?;
    }
    if let Some((seg, offset, reason, headerless)) = torn_at {
        state.torn = Some(quarantine_tail(dir, seg, offset, &reason)?);
        if headerless {
            // The crash hit while the segment was being created: its
            // bytes are kept in quarantine and the segment starts afresh.
            std::fs::remove_file(&seg.path).map_err(io(&seg.path))?;
            sync_dir(dir)?;
            state.segment_first_seq.pop();
            state.open_segment = None;
        }
    }
    Ok(state)
}

/// The hub holds every record through `acked_seq`: a journal that ends
/// before it, or has another record there, lost or changed what the hub
/// holds. Appending would reuse acknowledged sequence numbers and build a
/// history that diverges from the hub's, so the writer refuses.
fn check_cursor(dir: &Path, cursor: &SyncCursor, segments: &[Segment], state: &Recovered) -> Result<(), JournalError> {
    let file = dir.join(segment::CURSOR_FILE);
    let damaged = |reason: String| JournalError::Damaged { file: file.clone(), offset: 0, reason };
    if cursor.acked_seq >= state.next_seq {
        return Err(damaged(format!(
            "the hub acknowledged records through {}, but the journal ends {}; records the hub holds are missing \
             (deleted, cut off or restored from an old copy), and appending would reuse acknowledged sequence numbers",
            cursor.acked_seq,
            state.next_seq.checked_sub(1).map_or("before its first record".to_string(), |last| format!("at record {last}"))
        )));
    }
    let position = state.segment_first_seq.partition_point(|first| *first <= cursor.acked_seq).saturating_sub(1);
    let stored = segments
        .get(position)
        .map(|seg| segment::scan_segment(&seg.path))
        .transpose()?
        .and_then(|scan| scan.records.into_iter().find(|r| r.body.seq == cursor.acked_seq))
        .map(|r| hex::encode(r.hash));
    if stored.as_deref() != Some(cursor.acked_hash.as_str()) {
        return Err(damaged(format!(
            "record {} is not the one the hub acknowledged (its hash differs): the journal was replaced or rewritten",
            cursor.acked_seq
        )));
    }
    Ok(())
}

/// Copies the bytes from `offset` to the end of `seg` into the quarantine
/// directory (durably), then cuts them off the segment.
fn quarantine_tail(dir: &Path, seg: &Segment, offset: u64, reason: &str) -> Result<TornTail, JournalError> {
    let bytes = std::fs::read(&seg.path).map_err(io(&seg.path))?;
    let tail = &bytes[offset as usize..];
    let quarantine = dir.join(QUARANTINE_DIR);
    std::fs::create_dir_all(&quarantine).map_err(io(&quarantine))?;
    let file_name = segment::segment_name(seg.index);
    let name = format!("{file_name}.{offset}.{}.torn", wall_time_us());
    let path = quarantine.join(&name);
    let mut file = OpenOptions::new().write(true).create_new(true).open(&path).map_err(io(&path))?;
    file.write_all(tail).and_then(|()| file.sync_all()).map_err(io(&path))?;
    sync_dir(&quarantine)?;
    sync_dir(dir)?;
    if offset >= format::SEGMENT_HEADER_LEN as u64 {
        let segment_file = OpenOptions::new().write(true).open(&seg.path).map_err(io(&seg.path))?;
        segment_file.set_len(offset).and_then(|()| segment_file.sync_all()).map_err(io(&seg.path))?;
    }
    Ok(TornTail {
        segment: file_name,
        offset,
        length: tail.len() as u64,
        sha256: hex::encode(ring::digest::digest(&ring::digest::SHA256, tail)),
        quarantined_as: format!("{QUARANTINE_DIR}/{name}"),
        reason: reason.to_owned(),
    })
}

fn create_segment(dir: &Path, index: u64) -> Result<OpenSegment, JournalError> {
    let path = dir.join(segment::segment_name(index));
    let mut file = OpenOptions::new().append(true).create_new(true).open(&path).map_err(io(&path))?;
    let header = format::encode_segment_header(index);
    file.write_all(&header).and_then(|()| file.sync_all()).map_err(io(&path))?;
    sync_dir(dir)?;
    Ok(OpenSegment { index, file, path, len: header.len() as u64 })
}

/// Makes a directory's entries (new or renamed files) durable, where a
/// directory can be synced (`exam_secure::sync_dir`: on Windows a directory
/// handle cannot be flushed — `FlushFileBuffers` on it is "Access denied",
/// which made every `Journal::open` fail there; NTFS journals its metadata).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    exam_secure::sync_dir(dir).map_err(io(dir))
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, JournalError> {
    serde_json::to_vec(value).map_err(|e| JournalError::InvalidEvent(e.to_string()))
}

fn wall_time_us() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod summary_tests {
    #[test]
    fn an_oversized_payload_is_summarised_not_lost() {
        let big = serde_json::json!({"student": "1".repeat(70_000), "reason": "te lang"});
        assert!(super::Event::new("session.login_failed", &big).is_err());
        let event = super::Event::new_or_summary("session.login_failed", &big).unwrap();
        let summary: serde_json::Value = serde_json::from_slice(&event.payload).unwrap();
        let json = serde_json::to_vec(&big).unwrap();
        assert_eq!(summary["summarised"], true);
        assert_eq!(summary["bytes"], json.len());
        assert_eq!(summary["sha256"], hex::encode(ring::digest::digest(&ring::digest::SHA256, &json)));
        assert_eq!(summary["prefix"].as_str().unwrap().chars().count(), super::SUMMARY_PREFIX_CHARS);
        let small = super::Event::new_or_summary("session.login_failed", &serde_json::json!({"student": "1"})).unwrap();
        assert_eq!(small.payload, br#"{"student":"1"}"#);
    }
}

//! The answer store: every change a student makes is saved locally,
//! encrypted (AES-256-GCM), append-only and fsynced before it is reported as
//! saved, and queued for the hub until the hub's signed receipt acknowledges
//! it. See `docs/answers.md` for the file format and the guarantees.
//!
//! ```no_run
//! use kiosk_core::answers::{AnswerKey, AnswerStore};
//! use exam_journal::KeyStore;
//!
//! fn example(receipt_from_hub: impl Fn(&exam_protocol::AnswerUpload) -> exam_protocol::AnswerReceipt)
//!     -> Result<(), Box<dyn std::error::Error>> {
//!     let key = AnswerKey::from_store(&KeyStore::Keyring { entry: "answer-store-key".into() })?;
//!     let dir = std::path::Path::new("/var/lib/exam-kiosk/answers/S1");
//!     let mut store = AnswerStore::open_or_create(dir, &key, "S1", "instr-1")?;
//!     store.save("ITM-1", "RESPONSE", serde_json::json!("B"))?; // durable when this returns
//!     if let Some(upload) = store.pending_upload() {
//!         let receipt = receipt_from_hub(&upload); // HubClient::upload_answers + receipt.verify
//!         store.ack(&receipt)?;
//!     }
//!     Ok(())
//! }
//! ```

mod log;
mod transfer;

pub use transfer::{open_with_hub_copy, MovedIn, TransferError};
pub use log::{LOG_FILE, LOG_MAGIC, MAX_RECORD_BYTES, RECORD_AAD_DOMAIN};

use exam_protocol::{AnswerChange, AnswerReceipt, AnswerUpload, NoteKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `format` of an [`AnswerSnapshot`].
pub const SNAPSHOT_FORMAT: &str = "exam-kiosk-answers/1";
/// Default keyring entry of the answer-store key.
pub const DEFAULT_KEY_ENTRY: &str = "answer-store-key";
pub use exam_protocol::{MAX_ANSWER_ID_BYTES as MAX_ID_BYTES, MAX_ANSWER_VALUE_BYTES as MAX_VALUE_BYTES};
/// The changes one upload carries at most (JSON bytes; always at least one
/// change): a kiosk that was offline for long catches up in several uploads,
/// each within the hub's body limit together with its snapshot.
pub const MAX_UPLOAD_CHANGES_BYTES: usize = 512 * 1024;

/// Why the answer store refused.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// File system trouble.
    #[error("answer store {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The key does not belong to this store.
    #[error("answer store {0}: the key does not open this store (wrong key)")]
    WrongKey(PathBuf),
    /// A record that is not the last one does not decrypt or parse: tampering or damage.
    #[error("answer store {path}: damaged at byte {offset}: {reason}")]
    Damaged {
        /// The log file.
        path: PathBuf,
        /// Byte offset of the bad record.
        offset: u64,
        /// What.
        reason: String,
    },
    /// Another process holds the store open.
    #[error("answer store {0} is in use by another process")]
    Locked(PathBuf),
    /// The store belongs to another sitting or instrument.
    #[error("answer store is for sitting {found}, not {expected}")]
    WrongSitting {
        /// Asked for.
        expected: String,
        /// In the store.
        found: String,
    },
    /// The final submission was made; no further changes.
    #[error("the answers were handed in; no further changes are accepted")]
    Submitted,
    /// An argument is out of bounds.
    #[error("invalid answer: {0}")]
    Invalid(String),
    /// The key store failed.
    #[error("answer key: {0}")]
    Key(#[from] exam_journal::KeyError),
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// The answer store's AES-256-GCM key.
#[derive(Clone)]
pub struct AnswerKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for AnswerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AnswerKey(..)")
    }
}

impl AnswerKey {
    /// From raw bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        AnswerKey(bytes)
    }

    /// Loads the key from the OS keyring or a key file, creating it when missing.
    pub fn from_store(store: &exam_journal::KeyStore) -> Result<Self, AnswerError> {
        Ok(AnswerKey(store.load_or_create_secret()?))
    }
}

/// One saved response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedResponse {
    /// The value as the UI gave it (`null` = cleared).
    pub value: serde_json::Value,
    /// The save that set it.
    pub seq: u64,
    /// When, unix ms.
    pub time_ms: i64,
}

/// The answers of a sitting as the hub receives them (the `answers` of an
/// [`AnswerUpload`]) and as a new PC restores them ([`AnswerStore::restore`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSnapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// Sitting id.
    pub sitting_id: String,
    /// Instrument id.
    pub instrument_id: String,
    /// The last save included.
    pub seq: u64,
    /// True when this is the final submission.
    pub final_submission: bool,
    /// item ref identifier -> response identifier -> value.
    pub responses: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// Items the student flagged for review.
    pub flagged: BTreeSet<String>,
    /// The student's own aids per item, never scored: item → `scratchpad` /
    /// `highlights` → value (absent when there are none, so answers
    /// without notes look as they did before notes existed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

/// What a save returns: the answer is durable on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    /// The save's sequence number.
    pub seq: u64,
}

/// The state the UI shows ("alles opgeslagen" / "nog niet bij de hub").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerStatus {
    /// Last local save.
    pub saved_seq: u64,
    /// Last save the hub acknowledged.
    pub acked_seq: u64,
    /// Whether the answers were handed in locally.
    pub submitted: bool,
    /// Receipt code of the hub's receipt for the final submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_code: Option<String>,
}

/// Decrypted log records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub(crate) enum Record {
    Open { sitting_id: String, instrument_id: String, time_ms: i64 },
    Save { seq: u64, time_ms: i64, item: String, response: String, value: serde_json::Value },
    Flag { seq: u64, time_ms: i64, item: String, flagged: bool },
    Note { seq: u64, time_ms: i64, item: String, note: NoteKind, value: serde_json::Value },
    Final { seq: u64, time_ms: i64 },
    Ack { seq: u64, final_submission: bool, receipt_code: String, time_ms: i64 },
    Restored { snapshot: AnswerSnapshot, time_ms: i64 },
}

#[derive(Debug, Clone, Default)]
struct State {
    sitting_id: String,
    instrument_id: String,
    responses: BTreeMap<String, BTreeMap<String, SavedResponse>>,
    flagged: BTreeSet<String>,
    notes: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    seq: u64,
    acked: u64,
    final_seq: Option<u64>,
    receipt_code: Option<String>,
    /// The answers as the hub acknowledged them (at `acked`, or an earlier
    /// save for stores written before acknowledgements covered a change) …
    base: Option<AnswerSnapshot>,
    /// … and every change after them, oldest first: what the next uploads carry.
    unacked: Vec<AnswerChange>,
}

impl AnswerSnapshot {
    /// No answers yet (save 0) of a sitting.
    fn empty(sitting_id: &str, instrument_id: &str) -> Self {
        AnswerSnapshot {
            format: SNAPSHOT_FORMAT.into(),
            sitting_id: sitting_id.into(),
            instrument_id: instrument_id.into(),
            seq: 0,
            final_submission: false,
            responses: BTreeMap::new(),
            flagged: BTreeSet::new(),
            notes: BTreeMap::new(),
        }
    }

    /// Applies one change, as `exam_protocol::answers_after` does on the hub.
    fn apply(&mut self, change: &AnswerChange) {
        self.seq = change.seq();
        match change {
            AnswerChange::Save { item, response, value, .. } => {
                self.responses.entry(item.clone()).or_default().insert(response.clone(), value.clone());
            }
            AnswerChange::Flag { item, flagged: true, .. } => {
                self.flagged.insert(item.clone());
            }
            AnswerChange::Flag { item, flagged: false, .. } => {
                self.flagged.remove(item);
            }
            AnswerChange::Note { item, note, value, .. } => set_note(&mut self.notes, item, *note, value),
            AnswerChange::Final { .. } => self.final_submission = true,
        }
    }
}

/// Sets or (`null`) clears a note, keeping no empty entries — as
/// `exam_protocol::answers_after` does on the hub.
fn set_note(notes: &mut BTreeMap<String, BTreeMap<String, serde_json::Value>>, item: &str, kind: NoteKind, value: &serde_json::Value) {
    let of_item = notes.entry(item.to_owned()).or_default();
    if value.is_null() {
        of_item.remove(kind.as_str());
    } else {
        of_item.insert(kind.as_str().to_owned(), value.clone());
    }
    if of_item.is_empty() {
        notes.remove(item);
    }
}

impl State {
    /// Records a change made here (a save, a flag, the hand-in mark).
    fn changed(&mut self, change: AnswerChange) {
        if self.base.is_none() {
            self.base = Some(AnswerSnapshot::empty(&self.sitting_id, &self.instrument_id));
        }
        self.unacked.push(change);
    }

    /// The hub holds everything up to `seq`: those changes join the base.
    fn acknowledged(&mut self, seq: u64) {
        let held = self.unacked.iter().take_while(|c| c.seq() <= seq).count();
        if let Some(base) = self.base.as_mut() {
            for change in self.unacked.drain(..held) {
                base.apply(&change);
            }
        }
    }

    fn apply(&mut self, record: &Record) {
        match record {
            Record::Open { sitting_id, instrument_id, .. } => {
                self.sitting_id = sitting_id.clone();
                self.instrument_id = instrument_id.clone();
            }
            Record::Save { seq, time_ms, item, response, value } => {
                self.changed(AnswerChange::Save { seq: *seq, item: item.clone(), response: response.clone(), value: value.clone() });
                self.seq = self.seq.max(*seq);
                self.responses
                    .entry(item.clone())
                    .or_default()
                    .insert(response.clone(), SavedResponse { value: value.clone(), seq: *seq, time_ms: *time_ms });
            }
            Record::Flag { seq, item, flagged, .. } => {
                self.changed(AnswerChange::Flag { seq: *seq, item: item.clone(), flagged: *flagged });
                self.seq = self.seq.max(*seq);
                if *flagged {
                    self.flagged.insert(item.clone());
                } else {
                    self.flagged.remove(item);
                }
            }
            Record::Note { seq, item, note, value, .. } => {
                self.changed(AnswerChange::Note { seq: *seq, item: item.clone(), note: *note, value: value.clone() });
                self.seq = self.seq.max(*seq);
                set_note(&mut self.notes, item, *note, value);
            }
            Record::Final { seq, .. } => {
                self.changed(AnswerChange::Final { seq: *seq });
                self.seq = self.seq.max(*seq);
                self.final_seq = Some(*seq);
            }
            Record::Ack { seq, final_submission, receipt_code, .. } => {
                self.acknowledged(*seq);
                self.acked = self.acked.max(*seq);
                if *final_submission {
                    self.receipt_code = Some(receipt_code.clone());
                }
            }
            Record::Restored { snapshot, time_ms } => {
                self.responses = snapshot
                    .responses
                    .iter()
                    .map(|(item, rs)| {
                        let rs = rs
                            .iter()
                            .map(|(r, v)| (r.clone(), SavedResponse { value: v.clone(), seq: snapshot.seq, time_ms: *time_ms }))
                            .collect();
                        (item.clone(), rs)
                    })
                    .collect();
                self.flagged = snapshot.flagged.clone();
                self.notes = snapshot.notes.clone();
                self.base = Some(snapshot.clone());
                self.unacked.clear();
                self.seq = snapshot.seq;
                self.acked = snapshot.seq;
                self.final_seq = snapshot.final_submission.then_some(snapshot.seq);
            }
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn check_id(what: &str, id: &str) -> Result<(), AnswerError> {
    if !exam_protocol::answer_id_ok(id) {
        return Err(AnswerError::Invalid(format!("{what} must be 1..{MAX_ID_BYTES} bytes without control characters")));
    }
    Ok(())
}

/// What [`AnswerStore::restore_reporting`] did with the hub's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restore {
    /// It was recorded: the student continues from it.
    pub recorded: bool,
    /// The saves made here (first, last) that the hub never acknowledged and
    /// that went another way than the hub's copy: kept in the log, not sent.
    pub set_aside: Option<(u64, u64)>,
}

/// An open answer store (one per sitting and student, one writer at a time).
#[derive(Debug)]
pub struct AnswerStore {
    log: log::Log,
    state: State,
}

impl AnswerStore {
    /// Creates a new store in `dir`, or opens the one there (after `kill -9`
    /// or power loss: a torn last record is set aside; everything reported as
    /// saved is there).
    pub fn open_or_create(dir: &Path, key: &AnswerKey, sitting_id: &str, instrument_id: &str) -> Result<Self, AnswerError> {
        check_id("sitting id", sitting_id)?;
        check_id("instrument id", instrument_id)?;
        let (mut log, records) = log::Log::open_or_create(dir, key)?;
        let mut state = State::default();
        for r in &records {
            state.apply(r);
        }
        if records.is_empty() {
            let open = Record::Open { sitting_id: sitting_id.into(), instrument_id: instrument_id.into(), time_ms: now_ms() };
            log.append(&open)?;
            state.apply(&open);
        } else if state.sitting_id != sitting_id || state.instrument_id != instrument_id {
            return Err(AnswerError::WrongSitting {
                expected: format!("{sitting_id} ({instrument_id})"),
                found: format!("{} ({})", state.sitting_id, state.instrument_id),
            });
        }
        Ok(AnswerStore { log, state })
    }

    /// Opens an existing store, whatever its sitting (for inspection and export).
    pub fn open_existing(dir: &Path, key: &AnswerKey) -> Result<Self, AnswerError> {
        let (log, records) = log::Log::open_existing(dir, key)?;
        let mut state = State::default();
        for r in &records {
            state.apply(r);
        }
        Ok(AnswerStore { log, state })
    }

    /// Moves the answers to this PC: opens (or creates) the store in `dir`
    /// and, when the hub's copy is newer than what is here, records it. A
    /// local store that is as new or newer is kept as it is.
    pub fn restore(dir: &Path, key: &AnswerKey, snapshot: &AnswerSnapshot) -> Result<Self, AnswerError> {
        Self::restore_reporting(dir, key, snapshot, false).map(|(store, _)| store)
    }

    /// [`AnswerStore::restore`], also saying what became of the answers
    /// here. `from_elsewhere`: the hub's copy came from another PC. When it
    /// goes beyond what the hub acknowledged to this PC while this PC still
    /// holds changes the hub never acknowledged (made here offline before the
    /// student moved away and back), those changes and the hub's copy went
    /// different ways: the hub's copy — what the student continued with —
    /// is recorded, and the changes here are set aside, never sent (the hub
    /// would refuse them as a conflict for ever). They stay in this store's
    /// log (nothing is erased) and the kiosk journals which saves they were.
    pub fn restore_reporting(dir: &Path, key: &AnswerKey, snapshot: &AnswerSnapshot, from_elsewhere: bool) -> Result<(Self, Restore), AnswerError> {
        if snapshot.format != SNAPSHOT_FORMAT {
            return Err(AnswerError::Invalid(format!("snapshot format {:?}", snapshot.format)));
        }
        for (item, rs) in &snapshot.responses {
            check_id("item", item)?;
            for r in rs.keys() {
                check_id("response", r)?;
            }
        }
        let as_json = serde_json::to_value(snapshot).map_err(|e| AnswerError::Invalid(e.to_string()))?;
        exam_protocol::notes_ok(&as_json).map_err(AnswerError::Invalid)?;
        let mut store = Self::open_or_create(dir, key, &snapshot.sitting_id, &snapshot.instrument_id)?;
        let diverged = from_elsewhere && snapshot.seq > store.state.acked && !store.state.unacked.is_empty();
        let set_aside = diverged.then(|| (store.state.acked + 1, store.state.seq));
        let recorded = snapshot.seq > store.state.seq || diverged;
        if recorded {
            let record = Record::Restored { snapshot: snapshot.clone(), time_ms: now_ms() };
            store.log.append(&record)?;
            store.state.apply(&record);
        }
        Ok((store, Restore { recorded, set_aside }))
    }

    /// The sitting these answers belong to.
    pub fn sitting_id(&self) -> &str {
        &self.state.sitting_id
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        self.log.dir()
    }

    fn next_seq(&mut self) -> Result<u64, AnswerError> {
        if self.state.final_seq.is_some() {
            return Err(AnswerError::Submitted);
        }
        Ok(self.state.seq + 1)
    }

    /// Saves one response (`null` clears it). Returns once it is on disk.
    pub fn save(&mut self, item: &str, response: &str, value: serde_json::Value) -> Result<Saved, AnswerError> {
        check_id("item", item)?;
        check_id("response", response)?;
        let len = serde_json::to_vec(&value).map(|v| v.len()).unwrap_or(usize::MAX);
        if len > MAX_VALUE_BYTES {
            return Err(AnswerError::Invalid(format!("value of {len} bytes; at most {MAX_VALUE_BYTES}")));
        }
        let seq = self.next_seq()?;
        let record = Record::Save { seq, time_ms: now_ms(), item: item.into(), response: response.into(), value };
        self.log.append(&record)?;
        self.state.apply(&record);
        Ok(Saved { seq })
    }

    /// Flags or unflags an item for review. Returns once it is on disk.
    pub fn flag(&mut self, item: &str, flagged: bool) -> Result<Saved, AnswerError> {
        check_id("item", item)?;
        let seq = self.next_seq()?;
        let record = Record::Flag { seq, time_ms: now_ms(), item: item.into(), flagged };
        self.log.append(&record)?;
        self.state.apply(&record);
        Ok(Saved { seq })
    }

    /// Keeps a note of the student's on `item` (the scratchpad's text or the
    /// highlights; `null` clears it), never scored. Returns once it is on disk.
    pub fn note(&mut self, item: &str, note: NoteKind, value: serde_json::Value) -> Result<Saved, AnswerError> {
        check_id("item", item)?;
        exam_protocol::note_value_ok(note, &value).map_err(AnswerError::Invalid)?;
        // All notes together stay within what an upload and a record can carry.
        let mut after = self.state.notes.clone();
        set_note(&mut after, item, note, &value);
        if serde_json::to_vec(&after).map_or(usize::MAX, |v| v.len()) > exam_protocol::MAX_NOTES_BYTES {
            return Err(AnswerError::Invalid(format!("the notes hold at most {} bytes in all", exam_protocol::MAX_NOTES_BYTES)));
        }
        let seq = self.next_seq()?;
        let record = Record::Note { seq, time_ms: now_ms(), item: item.into(), note, value };
        self.log.append(&record)?;
        self.state.apply(&record);
        Ok(Saved { seq })
    }

    /// The student's notes (item → kind → value).
    pub fn notes(&self) -> &BTreeMap<String, BTreeMap<String, serde_json::Value>> {
        &self.state.notes
    }

    /// Hands in: no change is accepted afterwards; the next upload is the final submission.
    pub fn submit(&mut self) -> Result<Saved, AnswerError> {
        let seq = self.next_seq()?;
        let record = Record::Final { seq, time_ms: now_ms() };
        self.log.append(&record)?;
        self.state.apply(&record);
        Ok(Saved { seq })
    }

    /// The current answers.
    pub fn snapshot(&self) -> AnswerSnapshot {
        let s = &self.state;
        AnswerSnapshot {
            format: SNAPSHOT_FORMAT.into(),
            sitting_id: s.sitting_id.clone(),
            instrument_id: s.instrument_id.clone(),
            seq: s.seq,
            final_submission: s.final_seq.is_some(),
            responses: s
                .responses
                .iter()
                .map(|(i, rs)| (i.clone(), rs.iter().map(|(r, v)| (r.clone(), v.value.clone())).collect()))
                .collect(),
            flagged: s.flagged.clone(),
            notes: s.notes.clone(),
        }
    }

    /// One saved response.
    pub fn response(&self, item: &str, response: &str) -> Option<&SavedResponse> {
        self.state.responses.get(item)?.get(response)
    }

    /// Status for the UI.
    pub fn status(&self) -> AnswerStatus {
        AnswerStatus {
            saved_seq: self.state.seq,
            acked_seq: self.state.acked,
            submitted: self.state.final_seq.is_some(),
            receipt_code: self.state.receipt_code.clone(),
        }
    }

    /// What to send to the hub next (`POST /api/v1/answers`), or `None`
    /// when the hub has everything. Each upload is the whole answer set as
    /// it was at `seq`, with every change since the save the hub last
    /// acknowledged, so the hub can tell what was made in time even when the
    /// PC was offline across an end (docs/answers.md). After a long time
    /// offline the changes are sent in several uploads (at most
    /// [`MAX_UPLOAD_CHANGES_BYTES`] of changes each), oldest first: send
    /// again after each receipt until this says `None`.
    pub fn pending_upload(&self) -> Option<AnswerUpload> {
        let s = &self.state;
        if s.seq <= s.acked {
            return None;
        }
        let (Some(base), false) = (s.base.as_ref(), s.unacked.is_empty()) else {
            // Nothing to rebuild from (cannot happen for a store this
            // version wrote): the whole answer set alone.
            let snapshot = self.snapshot();
            return Some(AnswerUpload {
                sitting_id: s.sitting_id.clone(),
                seq: snapshot.seq,
                final_submission: snapshot.final_submission,
                answers: serde_json::to_value(&snapshot).unwrap_or(serde_json::Value::Null),
                changes: Vec::new(),
            });
        };
        let mut bytes = 0;
        let taken = s
            .unacked
            .iter()
            .take_while(|c| {
                bytes += serde_json::to_vec(c).map_or(usize::MAX / 2, |v| v.len());
                bytes <= MAX_UPLOAD_CHANGES_BYTES
            })
            .count()
            .max(1);
        let changes = s.unacked[..taken].to_vec();
        let mut snapshot = base.clone();
        for change in &changes {
            snapshot.apply(change);
        }
        Some(AnswerUpload {
            sitting_id: s.sitting_id.clone(),
            seq: snapshot.seq,
            final_submission: snapshot.final_submission,
            answers: serde_json::to_value(&snapshot).unwrap_or(serde_json::Value::Null),
            changes,
        })
    }

    /// Records the hub's receipt (verify its signature first, e.g. with
    /// `AnswerReceipt::verify`). Everything up to `receipt.seq` is then held by the hub.
    pub fn ack(&mut self, receipt: &AnswerReceipt) -> Result<(), AnswerError> {
        if receipt.sitting_id != self.state.sitting_id {
            return Err(AnswerError::WrongSitting { expected: self.state.sitting_id.clone(), found: receipt.sitting_id.clone() });
        }
        if receipt.seq > self.state.seq {
            return Err(AnswerError::Invalid(format!("receipt for save {} but only {} were made", receipt.seq, self.state.seq)));
        }
        if receipt.seq <= self.state.acked && !(receipt.final_submission && self.state.receipt_code.is_none()) {
            return Ok(());
        }
        let record = Record::Ack {
            seq: receipt.seq,
            final_submission: receipt.final_submission,
            receipt_code: receipt.receipt_code.clone(),
            time_ms: now_ms(),
        };
        self.log.append(&record)?;
        self.state.apply(&record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AnswerKey {
        AnswerKey::from_bytes([7u8; 32])
    }

    fn receipt(seq: u64, final_submission: bool) -> AnswerReceipt {
        AnswerReceipt {
            sitting_id: "S1".into(),
            student_number: "100".into(),
            seq,
            answers_sha256: String::new(),
            final_submission,
            time_ms: 0,
            receipt_code: "ABCD-EFGH".into(),
            signature: String::new(),
            kept_apart: false,
        }
    }

    #[test]
    fn save_reopen_ack_submit() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        assert_eq!(s.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap().seq, 1);
        s.save("ITM-2", "RESPONSE", serde_json::json!(["A", "C"])).unwrap();
        s.flag("ITM-2", true).unwrap();
        let up = s.pending_upload().unwrap();
        assert_eq!(up.seq, 3);
        s.ack(&receipt(3, false)).unwrap();
        assert!(s.pending_upload().is_none());
        drop(s);
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        assert_eq!(s.status().acked_seq, 3);
        assert_eq!(s.response("ITM-1", "RESPONSE").unwrap().value, serde_json::json!("B"));
        assert!(s.snapshot().flagged.contains("ITM-2"));
        s.submit().unwrap();
        assert!(matches!(s.save("ITM-1", "RESPONSE", serde_json::json!("A")), Err(AnswerError::Submitted)));
        let up = s.pending_upload().unwrap();
        assert!(up.final_submission);
        s.ack(&receipt(4, true)).unwrap();
        assert_eq!(s.status().receipt_code.as_deref(), Some("ABCD-EFGH"));
        assert!(AnswerStore::open_or_create(&dir, &key(), "S2", "I1").is_err());
    }

    /// Issue 21: the store's lock was a no-op off Linux, so on Windows and
    /// macOS a second kiosk opened a store another one was writing. Now the
    /// second is refused on every platform, the first goes on saving, and
    /// once it is closed the store opens again.
    #[test]
    fn a_second_open_of_a_store_in_use_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        let mut first = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        first.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
        let err = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap_err();
        assert!(matches!(&err, AnswerError::Locked(path) if *path == dir.join(LOG_FILE)), "{err}");
        assert!(err.to_string().ends_with("is in use by another process"), "{err}");
        let err = AnswerStore::restore(&dir, &key(), &first.snapshot()).unwrap_err();
        assert!(matches!(err, AnswerError::Locked(_)), "{err}");
        assert_eq!(first.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap().seq, 2, "the first kiosk goes on");
        drop(first);
        let again = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        assert_eq!(again.response("ITM-1", "RESPONSE").unwrap().value, serde_json::json!("B"));
    }

    #[test]
    fn wrong_key_never_truncates() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        s.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap();
        drop(s);
        let len = std::fs::metadata(dir.join(LOG_FILE)).unwrap().len();
        let err = AnswerStore::open_or_create(&dir, &AnswerKey::from_bytes([8u8; 32]), "S1", "I1").unwrap_err();
        assert!(matches!(err, AnswerError::WrongKey(_)), "{err}");
        assert_eq!(std::fs::metadata(dir.join(LOG_FILE)).unwrap().len(), len);
    }

    #[test]
    fn restore_on_another_pc_continues_the_sequence() {
        let tmp = tempfile::tempdir().unwrap();
        let mut a = AnswerStore::open_or_create(&tmp.path().join("pc1"), &key(), "S1", "I1").unwrap();
        a.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap();
        a.save("ITM-3", "RESPONSE", serde_json::json!("tekst")).unwrap();
        let exported: AnswerSnapshot = serde_json::from_value(a.pending_upload().unwrap().answers).unwrap();
        let mut b = AnswerStore::restore(&tmp.path().join("pc2"), &key(), &exported).unwrap();
        assert_eq!(b.snapshot().responses, a.snapshot().responses);
        assert!(b.pending_upload().is_none(), "the hub already holds the restored answers");
        assert_eq!(b.save("ITM-2", "RESPONSE", serde_json::json!("C")).unwrap().seq, 3);
        // An older copy does not overwrite newer local answers.
        let older = AnswerSnapshot { seq: 1, ..exported };
        drop(b);
        let b = AnswerStore::restore(&tmp.path().join("pc2"), &key(), &older).unwrap();
        assert_eq!(b.status().saved_seq, 3);
        // After the restore the next upload carries only what came after it.
        let up = b.pending_upload().unwrap();
        assert_eq!(up.changes.iter().map(AnswerChange::seq).collect::<Vec<_>>(), [3]);
    }

    /// Issue 14 (review of H1): a PC with saves the hub never acknowledged
    /// (offline when the student moved to another PC) and the student back
    /// on it: the hub's copy from the other PC goes beyond this PC's last
    /// receipt, so the saves here went another way. Before, the PC kept
    /// them (its save number was higher) and sent them for ever, refused
    /// each time as a conflict; now it continues from the hub's copy and
    /// sets its own aside, still in its log.
    #[test]
    fn a_pc_the_student_comes_back_to_continues_from_the_hubs_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("pc1");
        let mut a = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        a.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
        a.ack(&receipt(1, false)).unwrap();
        let acked: AnswerSnapshot = serde_json::from_value(serde_json::to_value(a.snapshot()).unwrap()).unwrap();
        for value in ["offline 2", "offline 3", "offline 4"] {
            a.save("ITM-1", "RESPONSE", serde_json::json!(value)).unwrap();
        }
        drop(a);
        // Meanwhile on the other PC: saves 2 and 3, acknowledged by the hub.
        let mut b = AnswerStore::restore(&tmp.path().join("pc2"), &key(), &acked).unwrap();
        b.save("ITM-2", "RESPONSE", serde_json::json!("elders 2")).unwrap();
        b.save("ITM-2", "RESPONSE", serde_json::json!("elders 3")).unwrap();
        let hub_copy: AnswerSnapshot = serde_json::from_value(b.pending_upload().unwrap().answers).unwrap();
        assert_eq!(hub_copy.seq, 3);
        // Back on the first PC.
        let (mut a, restore) = AnswerStore::restore_reporting(&dir, &key(), &hub_copy, true).unwrap();
        assert_eq!(restore, Restore { recorded: true, set_aside: Some((2, 4)) });
        assert_eq!(a.snapshot().responses, b.snapshot().responses, "the student continues with the hub's copy");
        assert!(a.pending_upload().is_none(), "nothing the hub would refuse is sent");
        assert_eq!(a.save("ITM-3", "RESPONSE", serde_json::json!("C")).unwrap().seq, 4);
        let up = a.pending_upload().unwrap();
        assert_eq!(up.changes.iter().map(AnswerChange::seq).collect::<Vec<_>>(), [4]);
        assert_eq!(exam_protocol::answers_after(&serde_json::to_value(&hub_copy).unwrap(), &up.changes), Some(up.answers));
        // The set-aside saves are still in the log.
        drop(a);
        let records = log::Log::open_existing(&dir, &key()).unwrap().1;
        let offline = records.iter().filter(|r| matches!(r, Record::Save { value, .. } if value.as_str().is_some_and(|v| v.starts_with("offline")))).count();
        assert_eq!(offline, 3);
        // The same PC's own copy (a receipt it never got) changes nothing.
        let mut c = AnswerStore::open_or_create(&tmp.path().join("pc3"), &key(), "S1", "I1").unwrap();
        c.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
        let own: AnswerSnapshot = serde_json::from_value(c.pending_upload().unwrap().answers).unwrap();
        c.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap();
        drop(c);
        let (_, restore) = AnswerStore::restore_reporting(&tmp.path().join("pc3"), &key(), &own, false).unwrap();
        assert_eq!(restore, Restore { recorded: false, set_aside: None });
    }

    /// Issue 14 (H1): a kiosk offline across an end sends every change since
    /// the hub's last receipt with its newest answers, so the hub can rebuild
    /// the answers as they were at each save; before, only the newest
    /// answers went, and work made in time was lost when the last save came late.
    #[test]
    fn an_upload_carries_every_change_since_the_last_receipt() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        s.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
        let first = s.pending_upload().unwrap();
        assert_eq!(first.changes, [AnswerChange::Save { seq: 1, item: "ITM-1".into(), response: "RESPONSE".into(), value: "A".into() }]);
        s.ack(&receipt(1, false)).unwrap();
        let hub_copy = s.pending_upload().map(|u| u.answers);
        assert!(hub_copy.is_none());
        let acked = serde_json::to_value(s.snapshot()).unwrap();
        // Offline: three more changes, then the hand-in.
        s.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap();
        s.flag("ITM-2", true).unwrap();
        s.save("ITM-2", "RESPONSE", serde_json::Value::Null).unwrap();
        s.submit().unwrap();
        drop(s);
        // What was not acknowledged survives a restart.
        let s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        let up = s.pending_upload().unwrap();
        assert_eq!(up.changes.iter().map(AnswerChange::seq).collect::<Vec<_>>(), [2, 3, 4, 5]);
        assert!(up.final_submission);
        // The hub rebuilds exactly what the kiosk sends, and every save between.
        assert_eq!(exam_protocol::answers_after(&acked, &up.changes), Some(up.answers.clone()));
        let at_3 = exam_protocol::answers_after(&acked, &up.changes[..2]).unwrap();
        assert_eq!(at_3["responses"]["ITM-1"]["RESPONSE"], "B");
        assert_eq!(at_3["flagged"], serde_json::json!(["ITM-2"]));
        assert_eq!(up.answers, serde_json::to_value(s.snapshot()).unwrap());
    }

    /// A long time offline: the changes go in several uploads, each within
    /// the limit, oldest first, and each a snapshot of its own last save.
    #[test]
    fn a_long_backlog_is_sent_in_bounded_uploads() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = AnswerStore::open_or_create(&tmp.path().join("a"), &key(), "S1", "I1").unwrap();
        let essay = "x".repeat(100 * 1024);
        for i in 0..12 {
            s.save("ITM-1", "RESPONSE", serde_json::json!(format!("{essay}{i}"))).unwrap();
        }
        let mut base = serde_json::to_value(AnswerSnapshot::empty("S1", "I1")).unwrap();
        let mut uploads = 0;
        while let Some(up) = s.pending_upload() {
            let bytes: usize = up.changes.iter().map(|c| serde_json::to_vec(c).unwrap().len()).sum();
            assert!(bytes <= MAX_UPLOAD_CHANGES_BYTES, "{bytes}");
            assert_eq!(up.changes.first().unwrap().seq(), base["seq"].as_u64().unwrap() + 1);
            assert_eq!(up.changes.last().unwrap().seq(), up.seq);
            assert_eq!(exam_protocol::answers_after(&base, &up.changes), Some(up.answers.clone()));
            s.ack(&receipt(up.seq, false)).unwrap();
            base = up.answers;
            uploads += 1;
        }
        assert_eq!(uploads, 3, "12 changes of 100 KiB in uploads of at most 512 KiB");
        assert_eq!(base, serde_json::to_value(s.snapshot()).unwrap());
    }

    /// The scratchpad and the highlights (issue 19): on disk with the
    /// answers, through a restart and to another PC, rebuilt by the hub as
    /// sent, never among the responses, and closed by the hand-in.
    #[test]
    fn notes_are_kept_with_the_answers_but_apart_from_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a");
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        let empty = serde_json::to_value(s.snapshot()).unwrap();
        assert!(empty.get("notes").is_none(), "answers without notes look as before: {empty}");
        s.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
        s.note("ITM-1", NoteKind::Scratchpad, serde_json::json!("3 x 17 = 51")).unwrap();
        s.note("ITM-2", NoteKind::Highlights, serde_json::json!([[4, 9]])).unwrap();
        assert!(matches!(s.note("ITM-1", NoteKind::Highlights, serde_json::json!([[9, 4]])), Err(AnswerError::Invalid(_))));
        assert!(matches!(s.note("ITM-1", NoteKind::Scratchpad, serde_json::json!({"RESPONSE": "B"})), Err(AnswerError::Invalid(_))));
        // Notes on many items cannot grow the answers past what an upload carries.
        let mut refused = None;
        for i in 0..40 {
            if let Err(e) = s.note(&format!("BIG-{i}"), NoteKind::Scratchpad, serde_json::json!("x".repeat(9_000))) {
                refused = Some((i, e));
                break;
            }
        }
        assert!(matches!(refused, Some((i, AnswerError::Invalid(_))) if i > 20), "{refused:?}");
        for i in 0..40 {
            let _ = s.note(&format!("BIG-{i}"), NoteKind::Scratchpad, serde_json::Value::Null);
        }
        drop(s);
        let mut s = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.notes["ITM-1"]["scratchpad"], "3 x 17 = 51");
        assert_eq!(snap.notes["ITM-2"]["highlights"], serde_json::json!([[4, 9]]));
        assert_eq!(snap.responses.keys().collect::<Vec<_>>(), ["ITM-1"], "a note is no answer");
        let up = s.pending_upload().unwrap();
        assert_eq!(exam_protocol::answers_after(&empty, &up.changes), Some(up.answers.clone()));
        // Another PC continues with them.
        let moved = AnswerStore::restore(&tmp.path().join("b"), &key(), &snap).unwrap();
        assert_eq!(moved.notes(), &snap.notes);
        // Cleared, it is gone; after the hand-in nothing changes.
        s.note("ITM-1", NoteKind::Scratchpad, serde_json::Value::Null).unwrap();
        assert!(!s.notes().contains_key("ITM-1"));
        s.submit().unwrap();
        assert!(matches!(s.note("ITM-2", NoteKind::Scratchpad, serde_json::json!("na inleveren")), Err(AnswerError::Submitted)));
        let up = s.pending_upload().unwrap();
        assert_eq!(exam_protocol::answers_after(&empty, &up.changes), Some(up.answers));
    }
}

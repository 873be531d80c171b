//! Reads everything the reports need about one sitting from the hub's
//! database, with this module's own queries (no other module's internals).

use super::ReportError;
use crate::config::{LOGIN_EARLY_MS, SESSION_GRACE_MS};
use crate::db::Db;
use exam_journal::records::CheckpointPayload;
use exam_journal::ChainVerifier;
use exam_protocol::events::{kinds, KioskEvent};
use exam_protocol::Instruction;
use std::collections::BTreeMap;

/// Journal event kinds the proces-verbaal reports (irregularities, network,
/// time); everything else in a journal is routine and is only counted. The
/// kiosk's kinds come from the shared vocabulary ([`exam_protocol::events`]),
/// so a renamed kind does not compile; [`is_reported`] says the same per
/// variant (a test holds the two together).
pub(crate) const REPORTED_KINDS: &[&str] = &[
    kinds::GUARD_PROCESS_ENDED,
    kinds::GUARD_PROCESS_NOT_ENDED,
    kinds::GUARD_PROCESS_WOULD_END,
    kinds::SESSION_TRANSITION,
    kinds::SESSION_TIME_ADDED,
    kinds::SESSION_UNLOCK_FAILED,
    kinds::SESSION_LOGIN_FAILED,
    kinds::ENVIRONMENT_CHECKED,
    kinds::LOCATION_REFUSED,
    kinds::INSTRUMENT_REFUSED,
    exam_journal::records::KIND_TORN_TAIL,
    kinds::SYNC_OFFLINE,
    kinds::SYNC_ONLINE,
    kinds::SYNC_JOURNAL_REFUSED,
    kinds::SYNC_JOURNAL_DAMAGED,
    kinds::KIOSK_TEST_AUTOMATION,
    kinds::KIOSK_ENVIRONMENT_CLEARED,
    kinds::ANSWERS_UPLOAD_REFUSED,
    kinds::ANSWERS_KEPT_APART,
];

/// Journal event kinds that say what a student used of the exam tools,
/// counted per candidate (issue 19): never an entry of their own, and
/// their payloads hold counts, not what was calculated or spoken.
pub(crate) const TOOL_KINDS: &[&str] = &[kinds::TOOLS_CALCULATOR_USED, kinds::KIOSK_READ_ALOUD, kinds::TOOLS_SPELL_CHECK_USED];

/// Whether the proces-verbaal reports an event of this kind. Every variant
/// is named (no wildcard): a kind added to the kiosk's vocabulary does not
/// compile until it is classified here.
pub(crate) fn is_reported(event: &KioskEvent) -> bool {
    use KioskEvent as E;
    match event {
        E::GuardProcessEnded(_)
        | E::GuardProcessNotEnded(_)
        | E::GuardProcessWouldEnd(_)
        | E::SessionTransition(_)
        | E::SessionTimeAdded(_)
        | E::SessionUnlockFailed(_)
        | E::SessionLoginFailed(_)
        | E::EnvironmentChecked(_)
        | E::LocationRefused(_)
        | E::InstrumentRefused(_)
        | E::SyncOffline(_)
        | E::SyncOnline(_)
        | E::SyncJournalRefused(_)
        | E::SyncJournalDamaged(_)
        | E::KioskTestAutomation(_)
        | E::KioskEnvironmentCleared(_)
        | E::AnswersUploadRefused(_)
        | E::AnswersKeptApart(_) => true,
        E::SessionClockSet(_)
        | E::SessionClockPaused(_)
        | E::SessionResumeAbandoned(_)
        | E::SessionResumed(_)
        | E::SessionLogin(_)
        | E::SessionTokenNotSaved(_)
        | E::SessionClockNotSaved(_)
        | E::SessionLockRequested(_)
        | E::GuardProcessExited(_)
        | E::GuardAccommodationsGranted(_)
        | E::GuardRestartFailed(_)
        | E::GuardStarted(_)
        | E::GuardStopped(_)
        | E::AnswersAcknowledged(_)
        | E::AnswersUploadFailed(_)
        | E::AnswersMovedIn(_)
        | E::AnswersRefused(_)
        | E::AnswersSaveFailed(_)
        | E::AnswersSaveRecovered(_)
        | E::InstructionApplied(_)
        | E::InstructionEndFailed(_)
        | E::InstructionNotRemembered(_)
        | E::InstrumentDownloadRetried(_)
        | E::InstrumentDownloadFailed(_)
        | E::InstrumentDownloaded(_)
        | E::InstrumentOpened(_)
        | E::LocationApproved(_)
        | E::LocationAwaitingRoomCode(_)
        | E::LocationRoomCodeStateNotSaved(_)
        | E::LockdownEvent(_)
        | E::LockdownEngaged(_)
        | E::LockdownReleased(_)
        | E::ClockUnchecked(_)
        | E::ClockChecked(_)
        | E::ClockFarOff(_)
        | E::KioskFocusLost(_)
        | E::KioskFocusRegained(_)
        | E::KioskFocusAway(_)
        | E::KioskWindowDisturbed(_)
        | E::KioskWindowRestored(_)
        | E::KioskCloseRefused(_)
        | E::KioskSecondInstanceRefused(_)
        | E::KioskKeyboardGrabFailed(_)
        | E::KioskKeyboardGrabTaken(_)
        | E::KioskWindowCovered(_)
        | E::KioskWindowUncovered(_)
        | E::KioskPickerRefused(_)
        | E::KioskDeveloperExtrasOff(_)
        | E::KioskUiReady(_)
        | E::KioskSignal(_)
        | E::KioskClipboardRetaken(_)
        | E::KioskClipboardIsolated(_)
        | E::WebInstrumentBlocked(_)
        | E::ToolsCalculatorUsed(_)
        | E::ToolsSpellCheckUsed(_)
        | E::KioskReadAloud(_) => false,
    }
}

/// The planned sitting, as the store reads it.
pub(crate) use crate::store::planning::Sitting;

impl Sitting {
    /// When the last candidate may still be working: the later of the
    /// planned and the actual start, plus the duration and the longest
    /// extra time of any candidate (without the session grace).
    pub fn latest_end_ms(&self, longest_extra_minutes: i64) -> i64 {
        latest_end_ms(self.start_ms, self.started_ms, self.duration_minutes + longest_extra_minutes)
    }
}

pub(crate) use crate::enforcement::latest_end_ms; // the one latest-end formula

/// The most extra time (planned plus added by the console) of any candidate.
pub(crate) fn longest_extra_minutes(candidates: &[Candidate]) -> i64 {
    candidates.iter().map(|c| c.extra_minutes + c.added_minutes).max().unwrap_or(0)
}

/// A planned candidate.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub student_number: String,
    pub name: String,
    pub extra_minutes: i64,
    pub added_minutes: i64,
    pub login_locked_ms: Option<i64>,
    /// Granted tools (policy accommodation ids), as planned.
    pub tools: Vec<String>,
    /// Text size, as planned (`None`: the default).
    pub text_size: Option<String>,
    /// Contrast, as planned (`None`: the default).
    pub contrast: Option<String>,
}

/// A login session of a candidate on a device.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub device_id: String,
    pub student_number: String,
    pub created_ms: i64,
}

/// An enrolled device that served the sitting.
#[derive(Debug, Clone, Default)]
pub(crate) struct Device {
    pub hostname: Option<String>,
    pub room: String,
    pub last_seen_ms: Option<i64>,
    pub last_state: Option<String>,
}

/// An instruction the hub issued to a device of the sitting.
#[derive(Debug, Clone)]
pub(crate) struct IssuedInstruction {
    pub device_id: String,
    pub instruction: Instruction,
    pub acked_ms: Option<i64>,
}

/// A verified journal event (the hub stores only verified records).
#[derive(Debug, Clone)]
pub(crate) struct JournalEvent {
    pub device_id: String,
    pub seq: i64,
    pub kind: String,
    /// The kiosk's wall clock, unix ms.
    pub time_ms: i64,
    pub payload: serde_json::Value,
}

impl JournalEvent {
    /// The event in the kiosk's vocabulary; `None` for a kind it does not
    /// know (the journal's own, an older or newer kiosk's), which is kept
    /// and shown by its kind. A known kind always reads (a payload of
    /// unexpected types as the kind with its default payload).
    pub fn read(&self) -> Option<KioskEvent> {
        KioskEvent::read_lenient(&self.kind, &self.payload)
    }
}

/// What the hub knows of one device's journal.
#[derive(Debug, Clone, Default)]
pub(crate) struct JournalState {
    /// Records the hub holds and verified (0 when none arrived).
    pub records: i64,
    /// The last checkpoint in the verified chain: tree size and root.
    pub checkpoint: Option<(u64, String)>,
    /// Alarms raised for this device: (time, kind, detail).
    pub alarms: Vec<(i64, String, String)>,
    /// The hub holds records of this device from the sitting's time (its
    /// part of it, for a PC that also served another sitting): what the
    /// counts of tool use rest on.
    pub in_sitting: bool,
}

/// A candidate's answers as the hub holds them.
#[derive(Debug, Clone)]
pub(crate) struct LatestAnswers {
    pub final_submission: bool,
    pub receipt_code: Option<String>,
    /// Items with scratchpad text (the snapshot's `notes`), counted only.
    pub scratchpad_items: usize,
    /// Items with highlights (the snapshot's `notes`), counted only.
    pub highlight_items: usize,
}

/// How many items of a snapshot have scratchpad text and how many have
/// highlights (its `notes`: item → `scratchpad` / `highlights` → value,
/// absent without any). Only counted: the text is not kept.
fn note_counts(answers: &str) -> (usize, usize) {
    use exam_protocol::NoteKind;
    #[derive(serde::Deserialize)]
    struct Notes {
        #[serde(default)]
        notes: serde_json::Value,
    }
    let Ok(Notes { notes }) = serde_json::from_str::<Notes>(answers) else { return (0, 0) };
    let items = notes.as_object().into_iter().flat_map(|n| n.values());
    let (mut scratchpads, mut highlights) = (0, 0);
    for item in items {
        let text = item.get(NoteKind::Scratchpad.as_str()).and_then(serde_json::Value::as_str);
        scratchpads += usize::from(text.is_some_and(|t| !t.trim().is_empty()));
        let marks = item.get(NoteKind::Highlights.as_str()).and_then(serde_json::Value::as_array);
        highlights += usize::from(marks.is_some_and(|m| !m.is_empty()));
    }
    (scratchpads, highlights)
}

/// A console action on the sitting (`console_actions`, written by the console).
#[derive(Debug, Clone)]
pub(crate) struct ConsoleAction {
    pub at_ms: i64,
    pub by: String,
    pub student: Option<String>,
    pub action: String,
    pub reason: String,
    pub detail: String,
}

/// A retention deletion recorded for the sitting.
#[derive(Debug, Clone)]
pub(crate) struct Deletion {
    pub what: String,
    pub subject: String,
    pub rows: i64,
    pub rule: String,
    pub deleted_ms: i64,
}

/// Everything about one sitting.
#[derive(Debug, Clone)]
pub(crate) struct SittingRecords {
    pub sitting: Sitting,
    pub candidates: Vec<Candidate>,
    pub sessions: Vec<Session>,
    pub devices: BTreeMap<String, Device>,
    pub instructions: Vec<IssuedInstruction>,
    pub events: Vec<JournalEvent>,
    pub journals: BTreeMap<String, JournalState>,
    pub answers: BTreeMap<String, LatestAnswers>,
    pub deletions: Vec<Deletion>,
    pub console_actions: Vec<ConsoleAction>,
    /// When and by whom the sitting was ended from the console.
    pub ended: Option<(i64, Option<String>)>,
    /// Per student: when their own exam was ended (console or CLI), unix ms.
    pub seat_ended: BTreeMap<String, i64>,
    /// The instrument as imported on the hub (None when it is not there).
    pub instrument: Option<Instrument>,
    /// Answers kept apart because the student moved on (per student).
    pub superseded: BTreeMap<String, Vec<Superseded>>,
}

/// The instrument package as the hub holds it.
#[derive(Debug, Clone)]
pub(crate) struct Instrument {
    /// SHA-256 of the package file, hex.
    pub sha256: String,
    /// From the package's signed header (None when the header cannot be read).
    pub title: Option<String>,
    /// The approved version, from the signed header.
    pub version: Option<String>,
    /// What the instrument grants everyone and where the spell-check is
    /// off, from the signed header; `None` when the header cannot be read.
    pub tools: Option<exam_instrument::InstrumentTools>,
}

/// Answers of one student from one PC the hub kept apart after the student
/// logged in elsewhere (`superseded_answers`).
#[derive(Debug, Clone)]
pub(crate) struct Superseded {
    pub device_id: String,
    pub saves: i64,
    pub last_seq: i64,
    pub handed_in: bool,
    pub first_ms: i64,
    pub superseded_ms: i64,
}

/// The instrument `instrument_id` as imported (its signed header read for
/// the title and version).
pub(crate) async fn load_instrument(db: &Db, instrument_id: &str) -> Result<Option<Instrument>, ReportError> {
    let Some(r) = crate::store::planning::package(&db.pool, instrument_id).await? else {
        return Ok(None);
    };
    let header = exam_instrument::SealedPackage::parse(r.data).ok().map(|p| p.header().clone());
    Ok(Some(Instrument {
        sha256: r.sha256,
        title: header.as_ref().map(|h| h.title.clone()).filter(|t| !t.trim().is_empty()),
        tools: header.as_ref().map(|h| h.tools.clone()),
        version: header.map(|h| h.version),
    }))
}

async fn load_superseded(db: &Db, sitting_id: &str) -> Result<BTreeMap<String, Vec<Superseded>>, ReportError> {
    let rows = crate::store::answers::superseded_per_pc(&db.pool, sitting_id).await?;
    let mut out: BTreeMap<String, Vec<Superseded>> = BTreeMap::new();
    for r in rows {
        out.entry(r.student_number).or_default().push(Superseded {
            device_id: r.device_id,
            saves: r.n,
            last_seq: r.seq,
            handed_in: r.handed_in != 0,
            first_ms: r.first_ms,
            superseded_ms: r.superseded_ms,
        });
    }
    Ok(out)
}

pub(crate) async fn load_sitting(db: &Db, sitting_id: &str) -> Result<Sitting, ReportError> {
    crate::store::planning::sitting(&db.pool, sitting_id).await?.ok_or_else(|| ReportError::UnknownSitting(sitting_id.to_string()))
}

pub(crate) async fn load_candidates(db: &Db, sitting_id: &str) -> Result<Vec<Candidate>, ReportError> {
    let rows = crate::store::planning::candidates_of(&db.pool, sitting_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            Candidate {
                student_number: r.student_number,
                name: r.name.unwrap_or_default(),
                extra_minutes: r.extra_minutes,
                added_minutes: r.added_minutes,
                login_locked_ms: r.locked_ms,
                tools: r
                    .tools
                    .split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
                text_size: r.text_size.filter(|t| !t.trim().is_empty()),
                contrast: r.contrast.filter(|t| !t.trim().is_empty()),
            }
        })
        .collect())
}

/// The latest answers per candidate (the highest `seq`, which is the final
/// submission when there is one: the hub refuses saves after it).
pub(crate) async fn load_latest_answers(db: &Db, sitting_id: &str) -> Result<BTreeMap<String, LatestAnswers>, ReportError> {
    let rows = crate::store::answers::latest_per_student(&db.pool, sitting_id).await?;
    let mut out = BTreeMap::new();
    for r in rows {
        let receipt_code = serde_json::from_str::<exam_protocol::AnswerReceipt>(&r.receipt).ok().map(|r| r.receipt_code);
        let (scratchpad_items, highlight_items) = note_counts(&r.answers);
        out.insert(
            r.student_number,
            LatestAnswers {
                final_submission: r.final_submission != 0,
                receipt_code,
                scratchpad_items,
                highlight_items,
            },
        );
    }
    Ok(out)
}

/// Loads the whole record of a sitting.
pub(crate) async fn load(db: &Db, sitting_id: &str) -> Result<SittingRecords, ReportError> {
    let sitting = load_sitting(db, sitting_id).await?;
    let candidates = load_candidates(db, sitting_id).await?;
    let sessions: Vec<Session> = crate::store::sessions::of_sitting(&db.pool, sitting_id)
        .await?
        .into_iter()
        .map(|r| Session { device_id: r.device_id, student_number: r.student_number, created_ms: r.created_ms })
        .collect();

    let planned_start = sitting.started_ms.map_or(sitting.start_ms, |s| s.min(sitting.start_ms));
    let planned_end = sitting.latest_end_ms(longest_extra_minutes(&candidates));
    let first_login = sessions.iter().map(|s| s.created_ms).min().unwrap_or(planned_start);
    // The devices' records count from an hour before the start (or the
    // first login) to the latest possible end plus the session grace.
    let window_ms = (first_login.min(planned_start - LOGIN_EARLY_MS), planned_end + SESSION_GRACE_MS);

    // One query per table for all of the sitting's devices (a 300-seat
    // sitting would otherwise be 1,500 round trips to PostgreSQL).
    let mut devices: BTreeMap<String, Device> = sessions.iter().map(|s| (s.device_id.clone(), Device::default())).collect();
    for r in crate::store::devices::of_sitting(&db.pool, sitting_id).await? {
        devices.insert(r.device_id, Device { room: r.room, hostname: r.hostname, last_seen_ms: r.last_seen_ms, last_state: r.last_state });
    }
    // A PC that served another sitting in the window: what it did for that
    // sitting (instructions, journal events) is not this one's.
    let bounds = device_bounds(db, sitting_id, &sessions, window_ms).await?;
    let other_sittings = |device_id: &str, time_ms: i64| bounds.get(device_id).is_some_and(|(from, to)| time_ms < *from || time_ms >= *to);
    let mut instructions = Vec::new();
    for r in crate::store::instructions::of_sitting_devices(&db.pool, sitting_id, window_ms.0, window_ms.1).await? {
        if other_sittings(&r.device_id, r.issued_ms) {
            continue;
        }
        if let Ok(instruction) = serde_json::from_str::<Instruction>(&r.body) {
            instructions.push(IssuedInstruction { device_id: r.device_id, instruction, acked_ms: r.acked_ms });
        }
    }
    let mut events = Vec::new();
    // The reported kinds and the tool kinds, in one query.
    let kinds: Vec<&str> = REPORTED_KINDS.iter().chain(TOOL_KINDS).copied().collect();
    for r in crate::store::journals::events_of_sitting(&db.pool, sitting_id, window_ms.0 * 1000, window_ms.1 * 1000, &kinds).await? {
        let device_id = r.device_id;
        let time_ms = r.wall_time_us / 1000;
        if other_sittings(&device_id, time_ms) {
            continue;
        }
        // Stored frames were verified on arrival; decoding only reads the payload.
        let payload = ChainVerifier::decode_frame(&r.frame)
            .ok()
            .and_then(|(body, _, _)| serde_json::from_slice(&body.payload).ok())
            .unwrap_or(serde_json::Value::Null);
        events.push(JournalEvent { device_id, seq: r.seq, kind: r.kind, time_ms, payload });
    }
    let mut journals = load_journal_states(db, sitting_id, &devices).await?;
    // Which PCs' journals reach into the sitting (this sitting's part of the
    // window for a PC that served another): without one, what the student
    // used there cannot be counted.
    for r in crate::store::journals::spans_of_sitting(&db.pool, sitting_id, window_ms.0 * 1000, window_ms.1 * 1000).await? {
        let (from, to) = bounds.get(&r.device_id).copied().unwrap_or(window_ms);
        if r.first_us / 1000 < to && r.last_us / 1000 >= from {
            journals.entry(r.device_id).or_default().in_sitting = true;
        }
    }
    events.sort_by(|a, b| (a.time_ms, &a.device_id, a.seq).cmp(&(b.time_ms, &b.device_id, b.seq)));

    let answers = load_latest_answers(db, sitting_id).await?;
    // Deletions of this sitting's answers, and of its devices' journals.
    let mut deletions = Vec::new();
    for r in crate::store::records::deletions_of_sitting(&db.pool, sitting_id, super::retention::WHAT_JOURNAL).await? {
        deletions.push(Deletion { what: r.what, subject: r.subject, rows: r.rows_deleted, rule: r.rule, deleted_ms: r.deleted_ms });
    }
    let console_actions = crate::store::audit::of_sitting(&db.pool, sitting_id)
        .await?
        .into_iter()
        .map(|r| ConsoleAction { at_ms: r.at_ms, by: r.display_name, student: r.student_number, action: r.action, reason: r.reason, detail: r.detail })
        .collect();
    let ended = crate::store::rooms::sitting_ended(&db.pool, sitting_id).await?.map(|r| (r.ended_ms, r.ended_by));
    let mut seat_ended = BTreeMap::new();
    for r in crate::store::rooms::ended_seats(&db.pool, sitting_id).await? {
        seat_ended.insert(r.student_number, r.ended_ms);
    }
    let instrument = load_instrument(db, &sitting.instrument_id).await?;
    let superseded = load_superseded(db, sitting_id).await?;
    Ok(SittingRecords {
        sitting,
        candidates,
        sessions,
        devices,
        instructions,
        events,
        journals,
        answers,
        deletions,
        console_actions,
        ended,
        seat_ended,
        instrument,
        superseded,
    })
}

/// Per device that also served another sitting within the window: the part
/// of the window that is this sitting's — from this sitting's first login on
/// it when another sitting's login came before, up to the next other
/// sitting's login after this sitting's last one.
async fn device_bounds(
    db: &Db,
    sitting_id: &str,
    sessions: &[Session],
    window_ms: (i64, i64),
) -> Result<BTreeMap<String, (i64, i64)>, ReportError> {
    // This sitting's first and last login per device.
    let mut ours: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for s in sessions {
        let span = ours.entry(&s.device_id).or_insert((s.created_ms, s.created_ms));
        *span = (span.0.min(s.created_ms), span.1.max(s.created_ms));
    }
    let mut bounds = BTreeMap::new();
    let others = crate::store::sessions::others_on_devices_of(&db.pool, sitting_id, window_ms.0, window_ms.1).await?;
    for r in others {
        let device = r.device_id;
        let other = r.created_ms;
        let Some(&(first, last)) = ours.get(device.as_str()) else { continue };
        let entry = bounds.entry(device).or_insert(window_ms);
        if other < first {
            entry.0 = entry.0.max(first);
        } else if other > last {
            entry.1 = entry.1.min(other);
        }
    }
    Ok(bounds)
}

/// What the hub knows of each device's journal: records held, the newest
/// verified checkpoint, alarms.
async fn load_journal_states(
    db: &Db,
    sitting_id: &str,
    devices: &BTreeMap<String, Device>,
) -> Result<BTreeMap<String, JournalState>, ReportError> {
    let mut states: BTreeMap<String, JournalState> = devices.keys().map(|d| (d.clone(), JournalState::default())).collect();
    for r in crate::store::journals::sizes_of_sitting(&db.pool, sitting_id).await? {
        states.entry(r.device_id).or_default().records = r.next_seq;
    }
    // The newest checkpoint record (type 3) of each device.
    for r in crate::store::journals::checkpoints_of_sitting(&db.pool, sitting_id).await? {
        states.entry(r.device_id).or_default().checkpoint = ChainVerifier::decode_frame(&r.frame)
            .ok()
            .and_then(|(body, _, _)| serde_json::from_slice::<CheckpointPayload>(&body.payload).ok())
            .map(|c| (c.tree_size, c.root_hash));
    }
    // Wrong access codes on a PC, or its re-enrolment, say nothing about its journal.
    let except = [crate::lockout::alarm::MANY_STUDENTS, crate::journal::alarm::REENROLMENT];
    for r in crate::store::journals::alarms_of_sitting(&db.pool, sitting_id, except).await? {
        states.entry(r.device_id).or_default().alarms.push((r.created_ms, r.kind, r.detail));
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stored(kind: &str, payload: serde_json::Value) -> JournalEvent {
        JournalEvent { device_id: "dev".into(), seq: 1, kind: kind.into(), time_ms: 0, payload }
    }

    /// Every kind the kiosk can write (one event per variant of its
    /// vocabulary) is understood by the records: it reads back as itself
    /// from the stored kind and payload, and the proces-verbaal's SQL filter
    /// selects it exactly when [`is_reported`] says so.
    #[test]
    fn every_kind_the_kiosk_writes_is_understood() {
        let examples = KioskEvent::examples();
        assert_eq!(examples.len(), KioskEvent::ALL_KINDS.len());
        for event in &examples {
            let read = stored(event.kind(), event.payload_json()).read();
            assert_eq!(read.as_ref(), Some(event), "{} does not read back", event.kind());
            assert_eq!(REPORTED_KINDS.contains(&event.kind()), is_reported(event), "{}: REPORTED_KINDS and is_reported disagree", event.kind());
        }
        // The tool kinds are counted per candidate, never entries of their own.
        for kind in TOOL_KINDS {
            assert!(KioskEvent::is_known_kind(kind) && !REPORTED_KINDS.contains(kind), "{kind}");
        }
        // The filter's other kinds are the journal's own, never an unknown kiosk kind.
        for kind in REPORTED_KINDS.iter().filter(|k| !KioskEvent::is_known_kind(k)) {
            assert!(kind.starts_with("journal."), "{kind} is reported but not in the vocabulary");
        }
    }

    /// The shipped fixture journals (tests/fixtures/journal, with its test
    /// vectors): every event of a kind in the vocabulary parses into it
    /// strictly (no defaults for type errors); events of other kinds (older
    /// test kinds such as `session.boot`) are kept with their kind.
    #[test]
    fn fixture_journals_parse_into_the_vocabulary() {
        use std::collections::BTreeSet;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/journal");
        let mut dirs = vec![root.join("journal")];
        for entry in std::fs::read_dir(root.join("vectors")).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
        dirs.sort();
        let (mut known, mut kept) = (BTreeSet::new(), BTreeSet::new());
        let (mut readable, mut events) = (0, 0);
        for dir in &dirs {
            // Some vectors are broken on purpose (a bad hash, a gap): the hub
            // never stores those, there is nothing to parse.
            let Ok(records) = exam_journal::read_records(dir) else { continue };
            readable += 1;
            for (_, record) in records {
                if record.body.record_type != exam_journal::format::RecordType::Event {
                    continue;
                }
                events += 1;
                let kind = record.body.kind.clone();
                let payload = serde_json::from_slice(&record.body.payload).unwrap_or(serde_json::Value::Null);
                if KioskEvent::is_known_kind(&kind) {
                    let event = KioskEvent::from_parts(&kind, &payload)
                        .unwrap_or_else(|e| panic!("{}: {kind} {payload} does not parse: {e}", dir.display()));
                    assert_eq!(event.kind(), kind);
                    assert_eq!(stored(&kind, payload).read(), Some(event));
                    known.insert(kind);
                } else {
                    let event = stored(&kind, payload.clone());
                    assert_eq!(event.read(), None, "{kind}");
                    assert_eq!((event.kind.as_str(), &event.payload), (kind.as_str(), &payload), "kept as it is");
                    kept.insert(kind);
                }
            }
        }
        assert!(readable >= 10, "only {readable} fixture journals could be read");
        assert!(events >= 20, "only {events} events in the fixtures");
        for kind in [kinds::LOCATION_APPROVED, kinds::GUARD_PROCESS_ENDED] {
            assert!(known.contains(kind), "{kind} not found in the fixtures: {known:?}");
        }
        assert!(kept.contains("session.boot"), "{kept:?}");
    }

    /// Kinds from other kiosks are kept as what they are; a known kind with
    /// a payload of unexpected types still reads (as that kind).
    #[test]
    fn unknown_kinds_are_kept_and_odd_payloads_still_read() {
        assert_eq!(stored("session.boot", json!({"profile": "demo"})).read(), None);
        let odd = stored(kinds::GUARD_PROCESS_ENDED, json!({"name": 5, "outcome": "ended"})).read();
        assert!(matches!(odd, Some(KioskEvent::GuardProcessEnded(_))));
        // The guard's old fixture form (`outcome` a string) reads with its name.
        let Some(KioskEvent::GuardProcessEnded(p)) = stored(kinds::GUARD_PROCESS_ENDED, json!({"name": "AnyDesk", "outcome": "ended", "rule": "deny"})).read() else {
            panic!("not read")
        };
        assert_eq!((p.name.as_str(), p.rule.as_str()), ("AnyDesk", "deny"));
    }
}

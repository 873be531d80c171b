//! The journal's event vocabulary: every kind of event a kiosk writes, with
//! its payload, in one typed enum ([`KioskEvent`]).
//!
//! The kiosk writes only through this enum, and the hub reads its reports,
//! its console and the proces-verbaal through it, so renaming a kind or a
//! payload field is a compile error on both sides instead of a line that
//! silently goes missing from a legal document.
//!
//! Wire form: a journal record keeps the kind and the payload apart
//! (`docs/journal-format.md`); [`KioskEvent::kind`] is the kind,
//! [`KioskEvent::payload`] serialises the payload, and
//! [`KioskEvent::from_parts`] reads both back. Serialised as a whole the enum
//! is `{"kind": "…", "payload": {…}}` (`#[serde(tag = "kind", content =
//! "payload")]`). The kinds are the documented ones and never change;
//! payload fields are only ever added.
//!
//! Readers are lenient: a payload field that is missing reads as its default
//! (an oversized payload the kiosk summarised, an older kiosk), unknown
//! fields are ignored (a newer kiosk), and a kind this crate does not know
//! is [`ReadError::UnknownKind`] — the caller keeps such an event and shows
//! it by its kind; it never drops it.
//!
//! This crate does not depend on `exam-journal`: the journal stores opaque
//! kinds and payloads, and turning a [`KioskEvent`] into a journal event is
//! kiosk-core's (`kiosk_core::events`), the crate that depends on both.
//!
//! Payload structs list their fields in the order the kiosk has always
//! serialised them (alphabetical for payloads that were built as JSON
//! objects), so the bytes in the journal stay what they were.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An open payload: an object whose fields the hub does not interpret one by
/// one (what the shell reports about a window, a location decision, an
/// environment report). Kept and shown as it is.
pub type Details = Map<String, Value>;

/// Why [`KioskEvent::from_parts`] could not read an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// A kind this version does not know (an older or newer kiosk, or a
    /// test journal): keep the event, show its kind.
    UnknownKind,
    /// A known kind whose payload does not have the expected types.
    Payload(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::UnknownKind => f.write_str("unknown event kind"),
            ReadError::Payload(e) => write!(f, "payload: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Serialises the payload of a [`KioskEvent`] (see [`KioskEvent::payload`]).
#[derive(Debug, Clone, Copy)]
pub struct Payload<'a>(&'a KioskEvent);

macro_rules! vocabulary {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) = $kind:literal as $konst:ident; )*) => {
        /// Every kind of journal event a kiosk writes, with its payload.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "kind", content = "payload")]
        pub enum KioskEvent {
            $( $(#[$doc])* #[serde(rename = $kind)] $variant($payload), )*
        }

        /// The kinds as constants, for SQL filters and tables.
        pub mod kinds {
            $( #[doc = concat!("`", $kind, "`")] pub const $konst: &str = $kind; )*
        }

        impl KioskEvent {
            /// Every kind, in declaration order (generated with the enum, so it is complete).
            pub const ALL_KINDS: &'static [&'static str] = &[$($kind),*];

            /// The journal kind of this event.
            pub fn kind(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $kind, )*
                }
            }

            /// One event of every kind, each with a default payload (for tests
            /// that must cover the whole vocabulary).
            pub fn examples() -> Vec<KioskEvent> {
                vec![$( Self::$variant(<$payload>::default()), )*]
            }

            /// Reads an event back from its journal kind and payload. A null
            /// payload reads as an empty one.
            pub fn from_parts(kind: &str, payload: &Value) -> Result<KioskEvent, ReadError> {
                let payload = if payload.is_null() { Value::Object(Map::new()) } else { payload.clone() };
                match kind {
                    $( $kind => serde_json::from_value::<$payload>(payload).map(Self::$variant).map_err(|e| ReadError::Payload(e.to_string())), )*
                    _ => Err(ReadError::UnknownKind),
                }
            }
        }

        impl Serialize for Payload<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self.0 {
                    $( KioskEvent::$variant(p) => p.serialize(serializer), )*
                }
            }
        }
    };
}

impl KioskEvent {
    /// The payload, serialisable on its own (the journal stores it apart from the kind).
    pub fn payload(&self) -> Payload<'_> {
        Payload(self)
    }

    /// The payload as JSON.
    pub fn payload_json(&self) -> Value {
        serde_json::to_value(self.payload()).unwrap_or(Value::Null)
    }

    /// Reads an event for display and reports, never losing it: a known
    /// kind is always `Some`; a field of an unexpected type reads as its
    /// default and only that field — the others keep their values (a
    /// transition with `"from": null` still names its trigger and reason);
    /// `None` only for a kind the vocabulary does not know, which the caller
    /// keeps and shows by its kind.
    pub fn read_lenient(kind: &str, payload: &Value) -> Option<KioskEvent> {
        match Self::from_parts(kind, payload) {
            Ok(event) => Some(event),
            Err(ReadError::UnknownKind) => None,
            Err(ReadError::Payload(_)) => {
                // Every payload type defaults its missing fields: keep each
                // field that reads on its own, drop those that do not.
                let kept: Map<String, Value> = match payload {
                    Value::Object(fields) => fields
                        .iter()
                        .filter(|(name, value)| Self::from_parts(kind, &Value::Object(Map::from_iter([((*name).clone(), (*value).clone())]))).is_ok())
                        .map(|(name, value)| (name.clone(), value.clone()))
                        .collect(),
                    _ => Map::new(),
                };
                Self::from_parts(kind, &Value::Object(kept)).or_else(|_| Self::from_parts(kind, &Value::Null)).ok()
            }
        }
    }

    /// Whether `kind` is one of the vocabulary's.
    pub fn is_known_kind(kind: &str) -> bool {
        Self::ALL_KINDS.contains(&kind)
    }
}

/// An open payload from a JSON value: its fields when it is an object (as
/// every payload is), else `{"value": value}`.
pub fn details(value: Value) -> Details {
    match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_owned(), other)]),
    }
}

vocabulary! {
    // --- session ---
    /// A phase change of the session, journalled before it is adopted.
    SessionTransition(Transition) = "session.transition" as SESSION_TRANSITION;
    /// The exam clock was set at the start.
    SessionClockSet(ClockSet) = "session.clock_set" as SESSION_CLOCK_SET;
    /// Extra time was added (invigilator instruction).
    SessionTimeAdded(TimeAdded) = "session.time_added" as SESSION_TIME_ADDED;
    /// The exam clock stopped for an invigilator's pause.
    SessionClockPaused(Reason) = "session.clock_paused" as SESSION_CLOCK_PAUSED;
    /// A wrong invigilator PIN (or none known) at an unlock.
    SessionUnlockFailed(Reason) = "session.unlock_failed" as SESSION_UNLOCK_FAILED;
    /// A resume was given up: the hub no longer knew the session.
    SessionResumeAbandoned(ResumeAbandoned) = "session.resume_abandoned" as SESSION_RESUME_ABANDONED;
    /// A session resumed after a crash.
    SessionResumed(Resumed) = "session.resumed" as SESSION_RESUMED;
    /// A login was refused (by the kiosk's own checks or by the hub).
    SessionLoginFailed(LoginFailed) = "session.login_failed" as SESSION_LOGIN_FAILED;
    /// A student logged in.
    SessionLogin(Login) = "session.login" as SESSION_LOGIN;
    /// The session token could not be kept on disk.
    SessionTokenNotSaved(Reason) = "session.token_not_saved" as SESSION_TOKEN_NOT_SAVED;
    /// The exam clock could not be saved.
    SessionClockNotSaved(Reason) = "session.clock_not_saved" as SESSION_CLOCK_NOT_SAVED;
    /// The standalone guard (`kioskctl guard`) asked for a lock.
    SessionLockRequested(Details) = "session.lock_requested" as SESSION_LOCK_REQUESTED;

    // --- guard ---
    /// An offending process was ended.
    GuardProcessEnded(GuardProcess) = "guard.process_ended" as GUARD_PROCESS_ENDED;
    /// Report-only: an offending process would have been ended.
    GuardProcessWouldEnd(GuardProcess) = "guard.process_would_end" as GUARD_PROCESS_WOULD_END;
    /// An offending process exited before the guard acted.
    GuardProcessExited(GuardProcess) = "guard.process_exited" as GUARD_PROCESS_EXITED;
    /// An offending process could not be ended (the session locks).
    GuardProcessNotEnded(GuardProcess) = "guard.process_not_ended" as GUARD_PROCESS_NOT_ENDED;
    /// The guard restarted with a student's granted tools allowed.
    GuardAccommodationsGranted(AccommodationsGranted) = "guard.accommodations_granted" as GUARD_ACCOMMODATIONS_GRANTED;
    /// The guard could not restart (the session locks).
    GuardRestartFailed(Reason) = "guard.restart_failed" as GUARD_RESTART_FAILED;
    /// The standalone guard (`kioskctl guard`) started.
    GuardStarted(Details) = "guard.started" as GUARD_STARTED;
    /// The standalone guard (`kioskctl guard`) stopped.
    GuardStopped(Details) = "guard.stopped" as GUARD_STOPPED;

    // --- sync ---
    /// The hub refused (part of) the journal.
    SyncJournalRefused(Reason) = "sync.journal_refused" as SYNC_JOURNAL_REFUSED;
    /// The kiosk cannot read its own journal from some record on (damaged
    /// on disk): what comes before is sent, what comes after cannot be.
    SyncJournalDamaged(Reason) = "sync.journal_damaged" as SYNC_JOURNAL_DAMAGED;
    /// The hub became unreachable.
    SyncOffline(Empty) = "sync.offline" as SYNC_OFFLINE;
    /// The hub is reachable again.
    SyncOnline(Empty) = "sync.online" as SYNC_ONLINE;

    // --- answers ---
    /// The hub keeps these answers apart (the student logged in elsewhere).
    AnswersKeptApart(AnswersReceipt) = "answers.kept_apart" as ANSWERS_KEPT_APART;
    /// The hub acknowledged an upload.
    AnswersAcknowledged(AnswersAcknowledged) = "answers.acknowledged" as ANSWERS_ACKNOWLEDGED;
    /// An upload failed (network or refusal).
    AnswersUploadFailed(UploadFailed) = "answers.upload_failed" as ANSWERS_UPLOAD_FAILED;
    /// The hub refused the answers (journalled once per reason).
    AnswersUploadRefused(UploadRefused) = "answers.upload_refused" as ANSWERS_UPLOAD_REFUSED;
    /// Answers moved in from another PC.
    AnswersMovedIn(MovedIn) = "answers.moved_in" as ANSWERS_MOVED_IN;
    /// An answer was refused (not an item of the exam, too large, …).
    AnswersRefused(ItemReason) = "answers.refused" as ANSWERS_REFUSED;
    /// An answer could not be written to disk.
    AnswersSaveFailed(ItemReason) = "answers.save_failed" as ANSWERS_SAVE_FAILED;
    /// Saving works again after failures.
    AnswersSaveRecovered(SaveRecovered) = "answers.save_recovered" as ANSWERS_SAVE_RECOVERED;

    // --- instructions ---
    /// An invigilator instruction was carried out (or not applicable).
    InstructionApplied(InstructionApplied) = "instruction.applied" as INSTRUCTION_APPLIED;
    /// A remote end could not be completed (tried again).
    InstructionEndFailed(InstructionEndFailed) = "instruction.end_failed" as INSTRUCTION_END_FAILED;
    /// A carried-out instruction could not be remembered on disk.
    InstructionNotRemembered(InstructionReason) = "instruction.not_remembered" as INSTRUCTION_NOT_REMEMBERED;

    // --- instrument ---
    /// The download is retried.
    InstrumentDownloadRetried(Empty) = "instrument.download_retried" as INSTRUMENT_DOWNLOAD_RETRIED;
    /// The download failed.
    InstrumentDownloadFailed(Reason) = "instrument.download_failed" as INSTRUMENT_DOWNLOAD_FAILED;
    /// The downloaded package was refused (hash, signature, content).
    InstrumentRefused(InstrumentRefused) = "instrument.refused" as INSTRUMENT_REFUSED;
    /// The package was downloaded and checked.
    InstrumentDownloaded(InstrumentDownloaded) = "instrument.downloaded" as INSTRUMENT_DOWNLOADED;
    /// The exam was opened.
    InstrumentOpened(Instrument) = "instrument.opened" as INSTRUMENT_OPENED;

    // --- location ---
    /// The PC was recognised as an exam room (the location decision).
    LocationApproved(Details) = "location.approved" as LOCATION_APPROVED;
    /// The PC was not recognised as an exam room (the location decision).
    LocationRefused(Details) = "location.refused" as LOCATION_REFUSED;
    /// BYOD: only the room code is missing; the login form asks for it.
    LocationAwaitingRoomCode(Details) = "location.awaiting_room_code" as LOCATION_AWAITING_ROOM_CODE;
    /// The room-code state could not be saved.
    LocationRoomCodeStateNotSaved(Reason) = "location.room_code_state_not_saved" as LOCATION_ROOM_CODE_STATE_NOT_SAVED;

    // --- startup ---
    /// Something the lockdown saw (SysRq, a key hook).
    LockdownEvent(LockdownEvent) = "lockdown.event" as LOCKDOWN_EVENT;
    /// The lockdown was engaged.
    LockdownEngaged(LockdownEngaged) = "lockdown.engaged" as LOCKDOWN_ENGAGED;
    /// The lockdown was released.
    LockdownReleased(LockdownReleased) = "lockdown.released" as LOCKDOWN_RELEASED;
    /// The environment report (virtual machine, remote desktop, …).
    EnvironmentChecked(Details) = "environment.checked" as ENVIRONMENT_CHECKED;
    /// The clock could not be compared with the hub's.
    ClockUnchecked(Reason) = "clock.unchecked" as CLOCK_UNCHECKED;
    /// The clock is within tolerance of the hub's.
    ClockChecked(ClockComparison) = "clock.checked" as CLOCK_CHECKED;
    /// The clock is too far off the hub's (the start is refused).
    ClockFarOff(ClockComparison) = "clock.far_off" as CLOCK_FAR_OFF;

    // --- the kiosk window and shell ---
    /// The window lost focus (reported).
    KioskFocusLost(Phase) = "kiosk.focus_lost" as KIOSK_FOCUS_LOST;
    /// The window has focus again.
    KioskFocusRegained(FocusRegained) = "kiosk.focus_regained" as KIOSK_FOCUS_REGAINED;
    /// The window was without focus longer than the grace.
    KioskFocusAway(FocusAway) = "kiosk.focus_away" as KIOSK_FOCUS_AWAY;
    /// The window was resized, moved, hidden or iconified (what the shell saw, the phase, whether it locks).
    KioskWindowDisturbed(Details) = "kiosk.window_disturbed" as KIOSK_WINDOW_DISTURBED;
    /// The shell put the window back.
    KioskWindowRestored(Details) = "kiosk.window_restored" as KIOSK_WINDOW_RESTORED;
    /// A close request was refused (the phase).
    KioskCloseRefused(Details) = "kiosk.close_refused" as KIOSK_CLOSE_REFUSED;
    /// A second copy of the kiosk was refused (attempts, the phase).
    KioskSecondInstanceRefused(Details) = "kiosk.second_instance_refused" as KIOSK_SECOND_INSTANCE_REFUSED;
    /// The keyboard grab failed for a while.
    KioskKeyboardGrabFailed(Details) = "kiosk.keyboard_grab_failed" as KIOSK_KEYBOARD_GRAB_FAILED;
    /// The keyboard grab was taken (again).
    KioskKeyboardGrabTaken(Details) = "kiosk.keyboard_grab_taken" as KIOSK_KEYBOARD_GRAB_TAKEN;
    /// Another window covered the exam window.
    KioskWindowCovered(Details) = "kiosk.window_covered" as KIOSK_WINDOW_COVERED;
    /// The exam window is no longer covered.
    KioskWindowUncovered(Details) = "kiosk.window_uncovered" as KIOSK_WINDOW_UNCOVERED;
    /// A colour, date or file picker was refused.
    KioskPickerRefused(PickerRefused) = "kiosk.picker_refused" as KIOSK_PICKER_REFUSED;
    /// The web inspector's developer extras were switched off.
    KioskDeveloperExtrasOff(DeveloperExtrasOff) = "kiosk.developer_extras_off" as KIOSK_DEVELOPER_EXTRAS_OFF;
    /// The UI has painted.
    KioskUiReady(Empty) = "kiosk.ui_ready" as KIOSK_UI_READY;
    /// Environment variables removed at the start.
    KioskEnvironmentCleared(EnvironmentCleared) = "kiosk.environment_cleared" as KIOSK_ENVIRONMENT_CLEARED;
    /// The policy lets a test program drive the window.
    KioskTestAutomation(TestAutomation) = "kiosk.test_automation" as KIOSK_TEST_AUTOMATION;
    /// A termination signal arrived.
    KioskSignal(Signal) = "kiosk.signal" as KIOSK_SIGNAL;
    /// A program took the clipboard back repeatedly.
    KioskClipboardRetaken(ClipboardRetaken) = "kiosk.clipboard_retaken" as KIOSK_CLIPBOARD_RETAKEN;
    /// The clipboard was isolated (which selections).
    KioskClipboardIsolated(ClipboardIsolated) = "kiosk.clipboard_isolated" as KIOSK_CLIPBOARD_ISOLATED;
    /// Read-aloud spoke a part of a text (counts only, never the text).
    KioskReadAloud(ReadAloud) = "kiosk.read_aloud" as KIOSK_READ_ALOUD;
    /// A request or navigation of a web instrument was refused.
    WebInstrumentBlocked(Details) = "web_instrument.blocked" as WEB_INSTRUMENT_BLOCKED;

    // --- tools (issue 19): counts only, never what the student typed ---
    /// The student used the calculator on an item.
    ToolsCalculatorUsed(ToolUsed) = "tools.calculator_used" as TOOLS_CALCULATOR_USED;
    /// The student had a text of an item checked by the Dutch spell-check
    /// (`kind`: the dictionary's language, `nl`).
    ToolsSpellCheckUsed(ToolUsed) = "tools.spell_check_used" as TOOLS_SPELL_CHECK_USED;
}

/// No payload: `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Just a reason: `{"reason": …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reason {
    /// Why, in words.
    pub reason: String,
}

impl Reason {
    /// `{"reason": reason}`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }
}

/// How a transition's `cause.by` marks an invigilator acting from the
/// console (`"Marieke de Wit (op afstand)"`), not with a PIN at the PC.
pub const BY_REMOTE_SUFFIX: &str = " (op afstand)";

/// `session.transition`: `from` and `to` are phases (snake_case), `cause`
/// the trigger (`{"trigger": "lock", "reason": …}`, `{"trigger": "unlock",
/// "by": …, "reason": …}`, …; kiosk-core's `Trigger`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Transition {
    /// What caused it.
    pub cause: Value,
    /// The phase before.
    pub from: String,
    /// The phase after.
    pub to: String,
}

/// `session.clock_set`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClockSet {
    /// Time left, ms.
    pub remaining_ms: u64,
    /// `hub` or `assignment`.
    pub source: String,
}

/// `session.time_added`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeAdded {
    /// Why.
    pub reason: String,
    /// Seconds added.
    pub seconds: u64,
}

/// `session.resume_abandoned`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResumeAbandoned {
    /// The invigilator (roster id) who confirmed.
    pub by: String,
    /// Why it was abandoned.
    pub reason: String,
}

/// `session.resumed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Resumed {
    /// The newest save in the restored answer store.
    pub answers_saved: u64,
    /// How long the exam clock stood still, ms (absent from older kiosks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_stopped_ms: Option<u64>,
    /// The sitting.
    pub sitting: String,
}

/// `session.login_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoginFailed {
    /// Why.
    pub reason: String,
    /// The student number typed (cut to the field's maximum).
    pub student: String,
    /// Its length in bytes, when the kiosk's own check refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub student_bytes: Option<u64>,
}

/// `session.login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Login {
    /// The sitting.
    pub sitting: String,
    /// The student number.
    pub student: String,
}

/// `guard.process_*`: one guard decision (kiosk-core's `GuardEvent`, in its field order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuardProcess {
    /// Process id.
    pub pid: u32,
    /// Process name.
    pub name: String,
    /// Executable path, when readable.
    pub exe: Option<String>,
    /// The rule that denied it.
    pub rule: String,
    /// Why it is ended (a name rule, or what it was seen doing).
    pub reason: Value,
    /// How it was found.
    pub detected_by: Value,
    /// What happened (`{"result": "ended", "signal": …}`, …).
    pub outcome: Value,
    /// Microseconds from detection to the confirmed end (or the failure).
    pub handling_us: u64,
    /// Ended only as a trusted display client (does not lock).
    pub trusted_display_client: bool,
}

/// `tools.calculator_used`, `tools.spell_check_used`: a use of an exam tool on an item, counted; no
/// expression, result or text (students' rights: the journal keeps events,
/// not what the student worked out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolUsed {
    /// The item's identifier.
    pub item: String,
    /// Which variant of the tool (`basic`, `scientific`; the spell-check's language).
    pub kind: String,
    /// How many times the tool was used on this item in this kiosk run, this one included.
    pub count: u64,
}

/// `guard.accommodations_granted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccommodationsGranted {
    /// The granted tools (policy accommodation ids).
    pub tools: Vec<String>,
}

/// `answers.kept_apart`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnswersReceipt {
    /// A final submission.
    #[serde(rename = "final")]
    pub final_submission: bool,
    /// The save's sequence number.
    pub seq: u64,
    /// SHA-256 of the answers.
    pub sha256: String,
}

/// `answers.acknowledged`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnswersAcknowledged {
    /// A final submission.
    #[serde(rename = "final")]
    pub final_submission: bool,
    /// The save's sequence number.
    pub seq: u64,
    /// SHA-256 of the answers.
    pub sha256: String,
    /// Whether the receipt was stored.
    pub stored: bool,
}

/// `answers.upload_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadFailed {
    /// Why.
    pub reason: String,
    /// The newest save made so far.
    pub seq: u64,
}

/// `answers.upload_refused`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadRefused {
    /// The hub's error code.
    pub error: String,
    /// Why, in words.
    pub reason: String,
    /// The newest save made so far.
    pub saved: u64,
    /// The refused upload's sequence number.
    pub seq: u64,
}

/// `answers.moved_in`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MovedIn {
    /// The PC they came from.
    pub from_device: String,
    /// The newest save moved in.
    pub seq: u64,
    /// Saves set aside (`{"first": …, "last": …}`), or null.
    pub set_aside: Option<SeqRange>,
}

/// A range of save sequence numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeqRange {
    /// First.
    pub first: u64,
    /// Last.
    pub last: u64,
}

/// `answers.refused`, `answers.save_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemReason {
    /// The item.
    pub item: String,
    /// Why.
    pub reason: String,
}

/// `answers.save_recovered`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SaveRecovered {
    /// Failed saves before this one.
    pub failures: u64,
    /// The item.
    pub item: String,
    /// The last failure's reason.
    pub last_reason: String,
    /// This save's sequence number.
    pub seq: u64,
}

/// `instruction.applied`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstructionApplied {
    /// Who issued it.
    pub by: String,
    /// The instruction id.
    pub id: String,
    /// What it said (the protocol's `InstructionKind`).
    pub instruction: Value,
    /// What came of it, in words.
    pub outcome: String,
    /// The invigilator's reason.
    pub reason: String,
    /// The session it was for (the protocol's `InstructionScope`), or null.
    pub session: Value,
}

/// `instruction.end_failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstructionEndFailed {
    /// The instruction id.
    pub id: String,
    /// Why.
    pub reason: String,
    /// Present (true) for an end on a locked seat, which stays locked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub still_locked: Option<bool>,
}

/// `instruction.not_remembered`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstructionReason {
    /// The instruction id.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// `instrument.refused`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstrumentRefused {
    /// The instrument id.
    pub instrument: String,
    /// Why.
    pub reason: String,
}

/// `instrument.downloaded`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InstrumentDownloaded {
    /// The instrument id.
    pub instrument: String,
    /// SHA-256 of the package.
    pub sha256: String,
}

/// `instrument.opened`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Instrument {
    /// The instrument id.
    pub instrument: String,
}

/// `lockdown.event`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockdownEvent {
    /// What the lockdown saw (its debug form).
    pub event: String,
}

/// `lockdown.engaged`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockdownEngaged {
    /// The measures applied.
    pub applied: Vec<String>,
}

/// `lockdown.released`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockdownReleased {
    /// `{"Ok": …}` or `{"Err": "why"}`.
    pub released: Value,
}

/// `clock.checked`, `clock.far_off` (kiosk-core's `ClockComparison`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClockComparison {
    /// The hub's clock, unix ms.
    pub hub_ms: u64,
    /// The kiosk's clock, unix ms.
    pub kiosk_ms: u64,
    /// Kiosk minus hub, ms; `None` when the payload holds no measurement
    /// (summarised, or not an integer) — never read as a skew of 0.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_ms: Option<i64>,
    /// The tolerance, ms.
    pub tolerance_ms: u64,
}

/// `kiosk.focus_lost`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Phase {
    /// The session phase (snake_case), or null.
    pub phase: Option<String>,
}

/// `kiosk.focus_regained`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FocusRegained {
    /// How long it was away, ms.
    pub after_ms: u64,
    /// The session phase, or null.
    pub phase: Option<String>,
}

/// `kiosk.focus_away`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FocusAway {
    /// How long it was away, ms.
    pub away_ms: u64,
    /// Demo mode.
    pub demo: bool,
    /// Whether it locked.
    pub locks: bool,
    /// Whether the policy locks on a focus loss.
    pub policy_locks: bool,
}

/// `kiosk.picker_refused`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PickerRefused {
    /// Which picker.
    pub picker: String,
}

/// `kiosk.developer_extras_off`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeveloperExtrasOff {
    /// Whether they were on and are now off.
    pub switched_off: bool,
}

/// `kiosk.environment_cleared`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EnvironmentCleared {
    /// The variable names removed.
    pub names: Vec<String>,
}

/// `kiosk.test_automation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TestAutomation {
    /// Whether a WebDriver actually drives the window.
    pub webdriver: bool,
}

/// `kiosk.signal`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Signal {
    /// `SIGTERM`, `SIGINT`, …
    pub signal: String,
}

/// `kiosk.clipboard_retaken`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClipboardRetaken {
    /// Which selection.
    pub selection: String,
    /// How often it was taken back in this episode.
    pub takes: u32,
}

/// `kiosk.clipboard_isolated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClipboardIsolated {
    /// Which selections were isolated.
    pub selections: Value,
}

/// `kiosk.read_aloud`: what read-aloud spoke, in counts; the text itself is
/// exam content and never journalled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadAloud {
    /// The length of the audio, milliseconds.
    pub audio_ms: u64,
    /// Characters spoken.
    pub chars: u32,
    /// The speaking rate, words per minute.
    pub rate: u16,
    /// Words spoken.
    pub words: u32,
}

#[cfg(test)]
mod tests;

//! The kiosk: the startup checklist, the session, the hub, the guard —
//! everything the Tauri shell calls. The shell only maps commands onto
//! these methods and forwards [`KioskView`] to the web view.
//!
//! One module per job, each adding its part of [`Kiosk`]'s methods: `startup`
//! (the checklist, the guard thread, [`Kiosk::start`]), `view` (what the UI
//! renders), `login`, `exam` (download, start, answers), `hand_in`, `resume`
//! (unlock and resume after a crash), `watch` (guard reports, locks, focus,
//! shutdown), `sync` (answers and journal to the hub) and [`remote`] (the
//! invigilator console's instructions). The state they share is `Inner`,
//! behind one lock that is never held while the hub is asked.

use crate::guard::Scope;
use crate::hub::HubClient;
use crate::instrument::running::{OpenedInstrument, RunningInstrument};
use crate::location::{self, Decision, RoomCodeVerifier};
use crate::session::checklist::Applied;
use crate::session::unlock::UnlockGate;
use crate::session::{Notice, Phase, Session, Trigger};
use crate::events::{vocabulary as ev, KioskEvent};
use exam_journal::{Journal, KeyStore};
use exam_policy::Policy;
use exam_protocol::Assignment;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod exam;
mod hand_in;
mod login;
mod read_aloud;
pub mod remote;
mod resume;
mod startup;
// Exam tools (issue 19).
mod tools;
pub use tools::ToolsView;
mod sync;
mod view;
mod watch;

use startup::GuardHandle;
pub use read_aloud::{read_aloud_granted, Spoken, READ_ALOUD, READ_ALOUD_MAX_CHARS};
pub use sync::{ANSWERS_SYNC_EVERY, JOURNAL_SYNC_EVERY};
pub use view::{AssignmentView, DownloadView, FormError, KioskView, LocationView, StepStatus, StudentView, SyncView};

/// The hub session token, kept for a resume after a crash.
const TOKEN_FILE: &str = "hub-token";

/// Writes a file only its owner can read, atomically and durably, creating
/// its directory first.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    exam_secure::write_private(path, bytes)
}

/// How long the window may be without focus before the exam locks. A
/// window manager's keyboard grab (a shortcut such as Alt+F4, an input
/// method) takes the focus for a few milliseconds; a student switching to
/// another window to read it stays away far longer.
pub const FOCUS_GRACE: Duration = Duration::from_secs(1);

/// Sub-directories of the kiosk's data directory.
pub mod dirs {
    /// The integrity journal.
    pub const JOURNAL: &str = "journal";
    /// Session state for resume.
    pub const STATE: &str = "state";
    /// Downloaded instruments.
    pub const INSTRUMENTS: &str = "instruments";
    /// The hub enrolment (written by `kioskctl enrol`).
    pub const HUB: &str = "hub";
    /// Encrypted answer stores, one per sitting.
    pub const ANSWERS: &str = "answers";
}

/// How the kiosk is started.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    /// Data directory: journal, state, instruments, hub enrolment.
    pub data_dir: PathBuf,
    /// The policy file.
    pub policy: PathBuf,
    /// Where the device key lives.
    pub key_store: KeyStore,
    /// Demo mode: windowed, guard reports only, no clipboard changes.
    pub demo: bool,
    /// Which processes the guard watches; `None`: the current user's.
    pub guard_scope: Option<Scope>,
}

/// A refusal the UI shows next to the action (wrong code, hub unreachable, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct UserError {
    /// In words.
    pub message: String,
}

fn user(message: impl std::fmt::Display) -> UserError {
    UserError { message: message.to_string() }
}

/// The kiosk's state: one value behind [`Kiosk`]'s lock, never held while
/// the hub is asked; each module adds the methods of its job.
struct Inner {
    /// What the startup checklist built, all of it or none.
    started: Startup,
    startup: Vec<StepStatus>,
    /// The student's exam, by stage (each stage owns its data).
    stage: Stage,
    login_error: Option<FormError>,
    unlock_error: Option<String>,
    /// Where the answer store's key lives (beside the device key).
    answer_key_store: KeyStore,
    /// The running web instrument's proxy (shared with [`Kiosk::web_proxy`]).
    web: crate::instrument::web_start::WebSlot,
    /// SHA-256 of the policy file, for the exam key header of web instruments.
    policy_hash: String,
    /// The running QTI instrument's package, for its images (shared with [`Kiosk::instrument_media`]).
    media: crate::instrument::media::MediaSlot,
    offline: bool,
    /// The last `offline` the journal was told of (`sync.offline`/`sync.online`).
    offline_journalled: bool,
    /// The journal cannot be read from this record on (found by the sync):
    /// journalled once (`sync.journal_damaged`) and told to the hub in every
    /// heartbeat, which raises an alarm.
    journal_damage: Option<exam_protocol::JournalDamage>,
    /// The hub answered the last answer upload with a refusal (its error
    /// code): not offline — retrying will not help; the invigilator must look.
    answers_refused: Option<String>,
    demo: bool,
    data_dir: PathBuf,
    policy_path: PathBuf,
    notice: Option<Notice>,
    /// The location check waits for the room code typed at login.
    room_code_pending: bool,
    /// Room codes already used and wrong attempts (kept across restarts).
    room_codes: RoomCodeVerifier,
    /// Answer saves that failed since the last one that worked, and the last
    /// reason: journalled again once saving works, in case the journal (on
    /// the same full disk) could not take the failure itself.
    save_failures: Option<(u32, String)>,
    /// Calculator uses per item in this run (journalled as counts).
    calculator_uses: std::collections::HashMap<String, u64>,
    /// Spell-checks per item in this kiosk run (for `tools.spell_check_used`).
    spell_check_uses: std::collections::HashMap<String, u64>,
}

/// What the startup checklist left the kiosk with. Before, seven `Option`s
/// (policy, session, journal, hub client, guard, applied steps, location)
/// that every method unwrapped on its own, each with its own message; a
/// step that fails halfway now leaves none of them, a kiosk that started
/// has all of them.
enum Startup {
    /// Every step applied: what the kiosk runs on.
    Ready(Box<Ready>),
    /// A step failed and the steps before it were undone (the journal
    /// closed with its checkpoint): the kiosk only shows which and why.
    Failed {
        /// The failing step, its reason and what was undone.
        failure: crate::session::checklist::StartupFailure,
        /// The policy asked for test automation (shown as TESTMODUS).
        test_automation: bool,
        /// The location decision, when the location step ran (a refused
        /// location shows which requirements failed).
        location: Option<Decision>,
    },
    /// Shut down: the guard stopped, every startup step undone.
    ShutDown,
}

/// Everything the startup checklist built, present together.
struct Ready {
    policy: Policy,
    session: Session,
    journal: Arc<Mutex<Journal>>,
    hub: HubClient,
    guard: GuardHandle,
    /// The applied steps, undone at shutdown.
    applied: Applied,
    location: Decision,
    /// The policy's invigilators' PINs and the failed-unlock window.
    unlock_gate: UnlockGate,
}

/// What the kiosk holds of the student's exam, by stage. Each stage owns its
/// data: before, five `Option`s (assignment, download, its error, the
/// instrument, the answers) could disagree — answers without an instrument,
/// a download view after the start. Whether the session is locked, paused or
/// handing in is the session's phase, a flag over the stage.
#[derive(Debug, Default)]
enum Stage {
    /// No assignment: before the login, or the session before a crash is gone.
    #[default]
    Idle,
    /// Logged in: the assignment and its instrument's download.
    Assigned {
        /// What the hub assigned.
        assignment: Assignment,
        /// Download progress, once it began.
        download: Option<DownloadView>,
        /// Why the last download attempt failed.
        download_error: Option<String>,
    },
    /// The exam opened: kept through locks, the hand-in and after it (the
    /// receipt is in the answer store).
    Running {
        /// What the hub assigned.
        assignment: Assignment,
        /// The running instrument (shared with the view).
        instrument: Arc<RunningInstrument>,
        /// The encrypted, durable answer store of the sitting.
        answers: crate::answers::AnswerStore,
    },
}

impl Stage {
    /// Logged in with `assignment`.
    fn assigned(assignment: Assignment) -> Self {
        Self::Assigned { assignment, download: None, download_error: None }
    }

    fn assignment(&self) -> Option<&Assignment> {
        match self {
            Self::Idle => None,
            Self::Assigned { assignment, .. } | Self::Running { assignment, .. } => Some(assignment),
        }
    }

    fn instrument(&self) -> Option<&Arc<RunningInstrument>> {
        match self {
            Self::Running { instrument, .. } => Some(instrument),
            _ => None,
        }
    }

    fn answers(&self) -> Option<&crate::answers::AnswerStore> {
        match self {
            Self::Running { answers, .. } => Some(answers),
            _ => None,
        }
    }

    fn answers_mut(&mut self) -> Option<&mut crate::answers::AnswerStore> {
        match self {
            Self::Running { answers, .. } => Some(answers),
            _ => None,
        }
    }

    /// The download's progress and last error (only while assigned).
    fn download(&self) -> (Option<DownloadView>, Option<String>) {
        match self {
            Self::Assigned { download, download_error, .. } => (*download, download_error.clone()),
            _ => (None, None),
        }
    }

    /// Sets the download's progress and error (only while assigned).
    fn set_download(&mut self, view: Option<DownloadView>, error: Option<String>) {
        if let Self::Assigned { download, download_error, .. } = self {
            if view.is_some() {
                *download = view;
            }
            *download_error = error;
        }
    }
}

/// The running kiosk.
pub struct Kiosk {
    inner: tokio::sync::Mutex<Inner>,
    /// Since when the window has been without focus (outside `inner`: the
    /// shell updates it synchronously, in event order).
    focus_lost_at: Mutex<Option<std::time::Instant>>,
    listener: Box<dyn Fn(&KioskView) + Send + Sync>,
    web: crate::instrument::web_start::WebSlot,
    media: crate::instrument::media::MediaSlot,
    /// One answer upload at a time (taken before the state lock, never
    /// while holding it: uploads wait on the network, the state does not).
    uploading: tokio::sync::Mutex<()>,
    /// One journal upload at a time (like `uploading`).
    journal_uploading: tokio::sync::Mutex<()>,
    /// One instrument download at a time (like `uploading`: the download
    /// waits on the network, the state lock never does).
    downloading: tokio::sync::Mutex<()>,
    /// One exam start at a time (like `downloading`).
    starting: tokio::sync::Mutex<()>,
    /// Wakes the background sync: a save wants its upload now.
    sync_wanted: tokio::sync::Notify,
    /// When the background sync last sent the journal.
    journal_synced: Mutex<Option<std::time::Instant>>,
    /// When the background sync last sent answers.
    answers_synced: Mutex<Option<std::time::Instant>>,
}

impl Kiosk {
    /// An image of the running instrument for the shell's `exammedia:`
    /// handler: bytes and media type (never waits for the kiosk's other work).
    pub fn instrument_media(&self, url: &str) -> Option<(Vec<u8>, &'static str)> {
        crate::instrument::media::lookup(&self.media, url)
    }

    /// The proxy of the running web instrument, for the shell's `examweb:`
    /// handler and navigation check (never waits for the kiosk's other work).
    pub fn web_proxy(&self) -> Option<Arc<crate::instrument::web_proxy::WebProxy>> {
        crate::instrument::web_start::current(&self.web)
    }
}

/// Appends one event to the journal, if it is open (startup steps).
fn journal_to(journal: Option<&Arc<Mutex<Journal>>>, event: &KioskEvent) {
    // Too large for one record (a 70 KB student number): summarised, never dropped.
    if let (Some(journal), Ok(event)) = (journal, crate::events::journal_event_or_summary(event)) {
        let _ = journal.lock().unwrap_or_else(|p| p.into_inner()).append(&event);
    }
}

/// A phase as the journal names it (snake_case), `None` without a session.
fn phase_name(phase: Option<Phase>) -> Option<String> {
    phase.and_then(|p| serde_json::to_value(p).ok()).and_then(|v| v.as_str().map(str::to_owned))
}

impl Inner {
    /// What the checklist built, if the kiosk started (and is not shut down).
    fn ready(&self) -> Option<&Ready> {
        match &self.started {
            Startup::Ready(ready) => Some(ready),
            Startup::Failed { .. } | Startup::ShutDown => None,
        }
    }

    fn ready_mut(&mut self) -> Option<&mut Ready> {
        match &mut self.started {
            Startup::Ready(ready) => Some(ready),
            Startup::Failed { .. } | Startup::ShutDown => None,
        }
    }

    /// [`Inner::ready`] for an action that needs the started kiosk.
    fn started(&self) -> Result<&Ready, UserError> {
        self.ready().ok_or_else(not_started)
    }

    fn started_mut(&mut self) -> Result<&mut Ready, UserError> {
        self.ready_mut().ok_or_else(not_started)
    }

    fn phase(&self) -> Option<Phase> {
        self.ready().map(|r| r.session.phase())
    }

    fn journal_event(&self, event: &KioskEvent) {
        journal_to(self.ready().map(|r| &r.journal), event);
    }

    fn session_apply(&mut self, trigger: Trigger) -> Result<Phase, UserError> {
        self.started_mut()?.session.apply(trigger).map_err(user)
    }

    fn lock_session(&mut self, reason: String) -> Result<(), UserError> {
        match self.phase() {
            None | Some(Phase::Submitted) => Ok(()),
            Some(_) => self.session_apply(Trigger::Lock { reason }).map(|_| ()),
        }
    }
}

/// The refusal of an action on a kiosk that did not start (the screen
/// shows the failed step; nothing else is offered there).
fn not_started() -> UserError {
    user("De kiosk is niet gestart; de pc kan geen examen afnemen. Roep de surveillant.")
}
